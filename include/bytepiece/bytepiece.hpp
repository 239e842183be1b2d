// SPDX-License-Identifier: Apache-2.0
//
// bytepiece-cpp: byte-level unigram tokenization, compatible with BytePiece models and ids.
// Include this header for everything BytePiece models need, or the individual headers for less.
// SentencePiece models: <bytepiece/sentencepiece_tokenizer.hpp> (and sentencepiece_export.hpp
// to write one), kept out of here so that a BytePiece-only translation unit does not compile
// them.
#pragma once

#include "bytepiece/batch.hpp"
#include "bytepiece/chunking.hpp"
#include "bytepiece/decode_stream.hpp"
#include "bytepiece/errors.hpp"
#include "bytepiece/lattice.hpp"
#include "bytepiece/model.hpp"
#include "bytepiece/model_batch.hpp"
#include "bytepiece/model_file.hpp"
#include "bytepiece/normalizer.hpp"
#include "bytepiece/offsets.hpp"
#include "bytepiece/random.hpp"
#include "bytepiece/sampler.hpp"
#include "bytepiece/special_tokens.hpp"
#include "bytepiece/stream_encoder.hpp"
#include "bytepiece/token_healing.hpp"
#include "bytepiece/tokenizer.hpp"
#include "bytepiece/train_counts.hpp"
#include "bytepiece/trainer.hpp"
#include "bytepiece/trie.hpp"
#include "bytepiece/version.hpp"
