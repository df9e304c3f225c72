//! Runnable programs that show what lockcheck finds; see `src/bin`.
