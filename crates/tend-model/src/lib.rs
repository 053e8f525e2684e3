//! Model providers: Anthropic Messages, OpenAI Chat Completions and `replay`.
//!
//! Boundary only for now (issue 3).
