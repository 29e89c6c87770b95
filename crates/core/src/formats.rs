//! Which outputs a request asks for.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Formats {
    pub txt: bool,
    pub hocr: bool,
    pub json: bool,
    pub pdf: bool,
    pub preview: bool,
    /// The searchable PDF as PDF/A-2b (implies `pdf`). Absent in jobs stored
    /// before it existed.
    #[serde(default)]
    pub pdfa: bool,
}

impl Default for Formats {
    fn default() -> Self {
        Self {
            txt: true,
            hocr: true,
            json: true,
            pdf: true,
            preview: true,
            pdfa: false,
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("unknown output format `{0}`; choose from txt, hocr, json, pdf, pdfa, preview")]
pub struct UnknownFormat(pub String);

impl std::str::FromStr for Formats {
    type Err = UnknownFormat;

    /// Parses `txt,hocr,json,pdf,pdfa,preview` (any subset, any order; `all`
    /// for every one but PDF/A; `pdfa` asks for the searchable PDF as PDF/A-2b).
    fn from_str(list: &str) -> Result<Self, Self::Err> {
        let mut f = Formats {
            txt: false,
            hocr: false,
            json: false,
            pdf: false,
            preview: false,
            pdfa: false,
        };
        for name in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            match name.to_ascii_lowercase().as_str() {
                "txt" | "text" => f.txt = true,
                "hocr" => f.hocr = true,
                "json" => f.json = true,
                "pdf" => f.pdf = true,
                "preview" | "png" => f.preview = true,
                "pdfa" | "pdf/a" => {
                    f.pdf = true;
                    f.pdfa = true;
                }
                "all" => {
                    f = Formats {
                        pdfa: f.pdfa,
                        ..Formats::default()
                    }
                }
                _ => return Err(UnknownFormat(name.chars().take(40).collect())),
            }
        }
        if !(f.txt || f.hocr || f.json || f.pdf || f.preview) {
            return Err(UnknownFormat(list.chars().take(40).collect()));
        }
        Ok(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_subsets_and_refuses_unknown_names() {
        let f: Formats = "txt, pdf".parse().expect("valid");
        assert!(f.txt && f.pdf && !f.hocr && !f.json && !f.preview);
        assert_eq!("all".parse::<Formats>(), Ok(Formats::default()));
        assert_eq!(
            "txt,docx".parse::<Formats>(),
            Err(UnknownFormat("docx".to_owned()))
        );
        assert!("".parse::<Formats>().is_err());
        let a: Formats = "pdfa,txt".parse().expect("valid");
        assert!(a.pdf && a.pdfa && a.txt && !a.json);
        let all: Formats = "pdfa,all".parse().expect("valid");
        assert!(all.pdfa && all.hocr && all.preview);
        assert!(!"all".parse::<Formats>().expect("valid").pdfa);
        // Jobs stored before PDF/A existed read as plain PDF.
        let old: Formats = serde_json::from_str(
            r#"{"txt":true,"hocr":false,"json":true,"pdf":true,"preview":false}"#,
        )
        .expect("old row");
        assert!(old.pdf && !old.pdfa);
    }
}
