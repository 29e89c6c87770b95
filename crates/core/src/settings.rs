//! One typed view of the configuration: `config/default.toml`, then
//! `config/$SCRIBE_ENV.toml`, then `SCRIBE__SECTION__KEY` environment variables.
//! Every field has a default, so a binary started outside the repository (or the
//! `scribe-worker ocr` command on a laptop) works without any file.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::preprocess::Preprocess;

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    pub ocr: OcrSettings,
    pub preprocess: Preprocess,
    pub limits: Limits,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OcrSettings {
    /// Language used when a request names none, in Tesseract's `deu+eng` form.
    pub default_language: String,
    /// Render resolution for PDF pages that hold no raster image.
    pub dpi: u32,
    /// Scanned PDF pages render at their image's own resolution, clamped to this range.
    pub min_dpi: u32,
    pub max_dpi: u32,
    /// OCR threads (one warm engine each); 0 means one per core.
    pub threads: usize,
    /// Where the `*.traineddata` files are; empty means Tesseract's usual places.
    pub tessdata_dir: Option<PathBuf>,
    /// Use a PDF page's own text layer instead of running OCR on it.
    pub skip_text: bool,
    /// Width of the page preview thumbnails, in pixels.
    pub preview_width: u32,
}

impl Default for OcrSettings {
    fn default() -> Self {
        Self {
            default_language: "eng".to_owned(),
            dpi: 300,
            min_dpi: 150,
            max_dpi: 400,
            threads: 0,
            tessdata_dir: None,
            skip_text: false,
            preview_width: 400,
        }
    }
}

impl OcrSettings {
    pub fn thread_count(&self) -> usize {
        if self.threads > 0 {
            return self.threads;
        }
        std::thread::available_parallelism().map_or(1, |n| n.get())
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    pub max_file_bytes: u64,
    pub max_pages: usize,
    /// Width × height of one image or rendered page.
    pub max_pixels: u64,
    /// Wall-clock limit for rendering one PDF page.
    pub render_timeout_secs: u64,
    /// Address-space limit for the renderer subprocess.
    pub render_memory_mb: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_file_bytes: 256 * 1024 * 1024,
            max_pages: 1000,
            max_pixels: 100_000_000,
            render_timeout_secs: 60,
            render_memory_mb: 2048,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("configuration could not be read: {0}")]
    Load(#[from] config::ConfigError),
    #[error("configuration key `{key}` is invalid: {reason}")]
    Invalid { key: &'static str, reason: String },
}

impl Settings {
    /// Reads the layered configuration from `config_dir` (missing files are fine).
    pub fn load(config_dir: &Path) -> Result<Self, SettingsError> {
        let env = std::env::var("SCRIBE_ENV").unwrap_or_else(|_| "dev".to_owned());
        let settings: Settings = config::Config::builder()
            .add_source(config::File::from(config_dir.join("default.toml")).required(false))
            .add_source(config::File::from(config_dir.join(format!("{env}.toml"))).required(false))
            .add_source(
                config::Environment::with_prefix("SCRIBE")
                    .prefix_separator("__")
                    .separator("__")
                    .try_parsing(true),
            )
            .build()?
            .try_deserialize()?;
        settings.validate()?;
        Ok(settings)
    }

    pub fn validate(&self) -> Result<(), SettingsError> {
        let invalid = |key, reason: &str| {
            Err(SettingsError::Invalid {
                key,
                reason: reason.to_owned(),
            })
        };
        let o = &self.ocr;
        if !(50..=1200).contains(&o.dpi) {
            return invalid("ocr.dpi", "must be between 50 and 1200");
        }
        if o.min_dpi == 0 || o.min_dpi > o.max_dpi {
            return invalid("ocr.min_dpi", "must be positive and at most ocr.max_dpi");
        }
        if !(16..=4096).contains(&o.preview_width) {
            return invalid("ocr.preview_width", "must be between 16 and 4096");
        }
        let l = &self.limits;
        if l.max_pages == 0 {
            return invalid("limits.max_pages", "must be at least 1");
        }
        if l.max_pixels < 10_000 {
            return invalid("limits.max_pixels", "must be at least 10000");
        }
        if l.render_timeout_secs == 0 {
            return invalid("limits.render_timeout_secs", "must be at least 1");
        }
        if self.preprocess.max_deskew_degrees > 45.0 || self.preprocess.max_deskew_degrees < 0.0 {
            return invalid("preprocess.max_deskew_degrees", "must be between 0 and 45");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        Settings::default().validate().expect("defaults validate");
    }

    #[test]
    fn a_bad_value_names_its_key() {
        let mut s = Settings::default();
        s.ocr.min_dpi = 500;
        let err = s.validate().expect_err("min above max is refused");
        assert!(err.to_string().contains("ocr.min_dpi"), "{err}");
    }
}
