//! Async glue.
