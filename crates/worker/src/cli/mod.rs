//! Command-line entry points.

pub mod ocr;
mod output_dir;
pub mod run;
