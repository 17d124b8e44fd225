/** Tokenizers: tokenizer.json (byte-level and SentencePiece-style BPE), converters, BPE training. */
export { Tokenizer, type AddedToken, type EncodeOptions, type DecodeOptions } from './tokenizer.js';
export { trainByteLevelBpe, byteLevelTokenizerJson, BPE_TRAINER_DEFAULTS, type BpeTrainerConfig } from './train-bpe.js';
export { tokenizerFromGpt2Files, tokenizerFromLlama2c } from './convert.js';
