//! The one error type of the gsalign core.
//!
//! Every fallible function of the core returns [`Result<T>`]. Each variant carries the name of
//! the argument at fault (`arg`) so that the Python layer can raise an exception that names it,
//! and, for batches, the index of the offending matrix.

/// Result alias used across the core.
pub type Result<T, E = Error> = core::result::Result<T, E>;

/// Everything that can go wrong in the core.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An argument is outside its domain (a tau outside (0, 1], a window outside 1..k, alpha < 0, ...).
    #[error("{arg}: {reason}")]
    InvalidArgument {
        /// Name of the argument.
        arg: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A matrix (or vector) has a NaN or infinite entry.
    #[error(
        "{arg}: matrix {index} has a non-finite entry (NaN or Inf) at row {row}, column {col}"
    )]
    NonFinite {
        /// Name of the argument.
        arg: String,
        /// Index of the matrix in its batch (0 for a single matrix).
        index: usize,
        /// Row of the first non-finite entry.
        row: usize,
        /// Column of the first non-finite entry.
        col: usize,
    },
    /// A matrix or vector has no entries.
    #[error("{arg}: matrix {index} is empty (shape {rows} x {cols})")]
    Empty {
        /// Name of the argument.
        arg: String,
        /// Index of the matrix in its batch.
        index: usize,
        /// Number of rows.
        rows: usize,
        /// Number of columns.
        cols: usize,
    },
    /// A normalisation was asked of the zero matrix (or a spectrum that is all zeros).
    #[error("{arg}: matrix {index} is zero and cannot be Frobenius-normalised")]
    ZeroMatrix {
        /// Name of the argument.
        arg: String,
        /// Index of the matrix in its batch.
        index: usize,
    },
    /// Shapes that must agree do not.
    #[error("{arg}: {reason}")]
    Shape {
        /// Name of the argument.
        arg: String,
        /// What does not match.
        reason: String,
    },
    /// Adjacent factors of a chain cannot be multiplied (`J_index` is `left`, `P_{index-1}` is `right`).
    #[error("{arg}: factor {index} has shape {left:?}, which cannot multiply the running product of shape {right:?}")]
    ChainMismatch {
        /// Name of the argument.
        arg: String,
        /// Index (0-based) of the offending factor.
        index: usize,
        /// Shape of the offending factor.
        left: (usize, usize),
        /// Shape of the running product it should multiply.
        right: (usize, usize),
    },
    /// An iterative decomposition did not converge.
    #[error("{arg}: the decomposition of matrix {index} did not converge")]
    NoConvergence {
        /// Name of the argument.
        arg: String,
        /// Index of the matrix in its batch.
        index: usize,
    },
    /// A checkpoint file is unreadable, truncated, malformed or inconsistent.
    #[error("{file}: {}{reason}", tensor_prefix(tensor))]
    Checkpoint {
        /// The file.
        file: String,
        /// The tensor at fault (empty when the fault is in the header or the file itself).
        tensor: String,
        /// What is wrong.
        reason: String,
    },
    /// The work was cancelled (Ctrl-C in Python) before it finished.
    #[error("cancelled")]
    Cancelled,
}

impl Error {
    /// Shorthand for [`Error::InvalidArgument`].
    pub fn invalid(arg: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::InvalidArgument {
            arg: arg.into(),
            reason: reason.into(),
        }
    }

    /// Shorthand for [`Error::Shape`].
    pub fn shape(arg: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::Shape {
            arg: arg.into(),
            reason: reason.into(),
        }
    }
}

/// `tensor "name": ` for a checkpoint error about one tensor, nothing for one about the file.
fn tensor_prefix(tensor: &str) -> String {
    if tensor.is_empty() {
        String::new()
    } else {
        format!("tensor {tensor:?}: ")
    }
}
