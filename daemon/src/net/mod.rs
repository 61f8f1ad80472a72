//! Sockets and the reply path.
