//! upssched (to be written).
