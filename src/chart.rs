//! Power-law charts and their residuals (SPEC §3.3–§3.5).
