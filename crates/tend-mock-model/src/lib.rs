//! A scripted local model server (in progress).
