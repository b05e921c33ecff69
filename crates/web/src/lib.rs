//! nut-web (work in progress).
