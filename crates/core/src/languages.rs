//! The OCR languages this machine can read: whatever `*.traineddata` files are
//! installed. The web validates requests against this list without linking
//! Tesseract.

use std::path::{Path, PathBuf};

/// Where distributions put tessdata, newest layout first.
const KNOWN_DIRS: &[&str] = &[
    "/usr/share/tesseract-ocr/5/tessdata",
    "/usr/share/tesseract-ocr/4.00/tessdata",
    "/usr/share/tessdata",
    "/usr/local/share/tessdata",
    "/opt/homebrew/share/tessdata",
];

/// Models that are not languages a person would pick.
const NOT_LANGUAGES: &[&str] = &["osd", "equ"];

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum LanguageError {
    #[error("no OCR language is installed (no *.traineddata found; install tesseract-ocr-eng)")]
    NoneInstalled,
    #[error("no language was given; installed languages: {installed}")]
    Empty { installed: String },
    #[error("unknown OCR language `{unknown}`; installed languages: {installed}")]
    Unknown { unknown: String, installed: String },
}

/// The tessdata directory: the configured one, `TESSDATA_PREFIX`, or the first
/// known location that holds models.
pub fn tessdata_dir(configured: Option<&Path>) -> Option<PathBuf> {
    if let Some(dir) = configured {
        return Some(dir.to_owned());
    }
    if let Some(prefix) = std::env::var_os("TESSDATA_PREFIX") {
        let prefix = PathBuf::from(prefix);
        let nested = prefix.join("tessdata");
        return Some(if nested.is_dir() { nested } else { prefix });
    }
    KNOWN_DIRS
        .iter()
        .map(PathBuf::from)
        .find(|d| d.join("eng.traineddata").is_file() || has_models(d))
}

fn has_models(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|mut it| {
        it.any(|e| e.is_ok_and(|e| e.path().extension().is_some_and(|x| x == "traineddata")))
    })
}

/// Installed language codes, sorted.
pub fn installed(dir: Option<&Path>) -> Vec<String> {
    let Some(dir) = dir else { return Vec::new() };
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut langs: Vec<String> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let path = e.path();
            (path.extension()? == "traineddata").then_some(())?;
            let stem = path.file_stem()?.to_str()?.to_owned();
            (!NOT_LANGUAGES.contains(&stem.as_str())).then_some(stem)
        })
        .collect();
    langs.sort();
    langs
}

/// A person's name for a Tesseract language code (`deu` → German); unknown
/// codes are shown as they are.
pub fn display_name(code: &str) -> &str {
    const NAMES: &[(&str, &str)] = &[
        ("ara", "Arabic"),
        ("ces", "Czech"),
        ("chi_sim", "Chinese (simplified)"),
        ("chi_tra", "Chinese (traditional)"),
        ("dan", "Danish"),
        ("deu", "German"),
        ("ell", "Greek"),
        ("eng", "English"),
        ("fin", "Finnish"),
        ("fra", "French"),
        ("heb", "Hebrew"),
        ("hin", "Hindi"),
        ("hun", "Hungarian"),
        ("ita", "Italian"),
        ("jpn", "Japanese"),
        ("kor", "Korean"),
        ("lat", "Latin"),
        ("nld", "Dutch"),
        ("nor", "Norwegian"),
        ("pol", "Polish"),
        ("por", "Portuguese"),
        ("ron", "Romanian"),
        ("rus", "Russian"),
        ("spa", "Spanish"),
        ("swe", "Swedish"),
        ("tur", "Turkish"),
        ("ukr", "Ukrainian"),
    ];
    NAMES
        .iter()
        .find(|(c, _)| *c == code)
        .map_or(code, |(_, name)| name)
}

/// `deu+eng` → `German + English`.
pub fn describe(combination: &str) -> String {
    combination
        .split('+')
        .map(|c| display_name(c.trim()))
        .collect::<Vec<_>>()
        .join(" + ")
}

/// Checks a `deu+eng` style request against the installed set and returns it
/// normalised (trimmed, duplicates removed, order kept: the first is primary).
pub fn validate(requested: &str, installed: &[String]) -> Result<String, LanguageError> {
    if installed.is_empty() {
        return Err(LanguageError::NoneInstalled);
    }
    let list = installed.join(", ");
    let mut chosen: Vec<&str> = Vec::new();
    for code in requested
        .split('+')
        .map(str::trim)
        .filter(|c| !c.is_empty())
    {
        if !installed.iter().any(|l| l == code) {
            return Err(LanguageError::Unknown {
                unknown: code.chars().take(40).collect(),
                installed: list,
            });
        }
        if !chosen.contains(&code) {
            chosen.push(code);
        }
    }
    if chosen.is_empty() {
        return Err(LanguageError::Empty { installed: list });
    }
    Ok(chosen.join("+"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn langs() -> Vec<String> {
        ["deu", "eng", "fra"].map(String::from).to_vec()
    }

    #[test]
    fn names_languages_for_people() {
        assert_eq!(describe("deu+eng"), "German + English");
        assert_eq!(describe("xyz"), "xyz");
    }

    #[test]
    fn accepts_installed_combinations() {
        assert_eq!(validate("deu+eng", &langs()).as_deref(), Ok("deu+eng"));
        assert_eq!(validate(" eng + eng ", &langs()).as_deref(), Ok("eng"));
    }

    #[test]
    fn refuses_unknown_languages_listing_the_installed_ones() {
        let err = validate("eng+klingon", &langs()).expect_err("unknown");
        assert_eq!(
            err.to_string(),
            "unknown OCR language `klingon`; installed languages: deu, eng, fra"
        );
        assert!(matches!(
            validate("+", &langs()),
            Err(LanguageError::Empty { .. })
        ));
        assert_eq!(validate("eng", &[]), Err(LanguageError::NoneInstalled));
    }

    #[test]
    fn lists_traineddata_files_but_not_osd() {
        let dir = tempfile::tempdir().expect("tempdir");
        for f in [
            "eng.traineddata",
            "osd.traineddata",
            "deu.traineddata",
            "notes.txt",
        ] {
            std::fs::write(dir.path().join(f), b"x").expect("write");
        }
        assert_eq!(
            installed(Some(dir.path())),
            vec!["deu".to_owned(), "eng".to_owned()]
        );
    }
}
