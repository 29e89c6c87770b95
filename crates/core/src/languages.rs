//! The OCR languages this machine can read: whatever `*.traineddata` files are
//! installed. The web validates requests against this list without linking
//! Tesseract.

use std::borrow::Cow;
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

/// A person's name for each language model Tesseract ships, by code.
const NAMES: &[(&str, &str)] = &[
    ("afr", "Afrikaans"),
    ("amh", "Amharic"),
    ("ara", "Arabic"),
    ("asm", "Assamese"),
    ("aze", "Azerbaijani"),
    ("aze_cyrl", "Azerbaijani (Cyrillic)"),
    ("bel", "Belarusian"),
    ("ben", "Bengali"),
    ("bod", "Tibetan"),
    ("bos", "Bosnian"),
    ("bre", "Breton"),
    ("bul", "Bulgarian"),
    ("cat", "Catalan"),
    ("ceb", "Cebuano"),
    ("ces", "Czech"),
    ("chi_sim", "Chinese (simplified)"),
    ("chi_sim_vert", "Chinese (simplified, vertical)"),
    ("chi_tra", "Chinese (traditional)"),
    ("chi_tra_vert", "Chinese (traditional, vertical)"),
    ("chr", "Cherokee"),
    ("cos", "Corsican"),
    ("cym", "Welsh"),
    ("dan", "Danish"),
    ("dan_frak", "Danish (Fraktur)"),
    ("deu", "German"),
    ("deu_frak", "German (Fraktur)"),
    ("deu_latf", "German (Fraktur)"),
    ("div", "Dhivehi"),
    ("dzo", "Dzongkha"),
    ("ell", "Greek"),
    ("eng", "English"),
    ("enm", "Middle English"),
    ("epo", "Esperanto"),
    ("est", "Estonian"),
    ("eus", "Basque"),
    ("fao", "Faroese"),
    ("fas", "Persian"),
    ("fil", "Filipino"),
    ("fin", "Finnish"),
    ("fra", "French"),
    ("frk", "German (Fraktur)"),
    ("frm", "Middle French"),
    ("fry", "Western Frisian"),
    ("gla", "Scottish Gaelic"),
    ("gle", "Irish"),
    ("glg", "Galician"),
    ("grc", "Ancient Greek"),
    ("guj", "Gujarati"),
    ("hat", "Haitian Creole"),
    ("heb", "Hebrew"),
    ("hin", "Hindi"),
    ("hrv", "Croatian"),
    ("hun", "Hungarian"),
    ("hye", "Armenian"),
    ("iku", "Inuktitut"),
    ("ind", "Indonesian"),
    ("isl", "Icelandic"),
    ("ita", "Italian"),
    ("ita_old", "Italian (old)"),
    ("jav", "Javanese"),
    ("jpn", "Japanese"),
    ("jpn_vert", "Japanese (vertical)"),
    ("kan", "Kannada"),
    ("kat", "Georgian"),
    ("kat_old", "Georgian (old)"),
    ("kaz", "Kazakh"),
    ("khm", "Khmer"),
    ("kir", "Kyrgyz"),
    ("kmr", "Kurdish (Kurmanji)"),
    ("kor", "Korean"),
    ("kor_vert", "Korean (vertical)"),
    ("lao", "Lao"),
    ("lat", "Latin"),
    ("lav", "Latvian"),
    ("lit", "Lithuanian"),
    ("ltz", "Luxembourgish"),
    ("mal", "Malayalam"),
    ("mar", "Marathi"),
    ("mkd", "Macedonian"),
    ("mlt", "Maltese"),
    ("mon", "Mongolian"),
    ("mri", "Maori"),
    ("msa", "Malay"),
    ("mya", "Burmese"),
    ("nep", "Nepali"),
    ("nld", "Dutch"),
    ("nor", "Norwegian"),
    ("oci", "Occitan"),
    ("ori", "Odia"),
    ("pan", "Punjabi"),
    ("pol", "Polish"),
    ("por", "Portuguese"),
    ("pus", "Pashto"),
    ("que", "Quechua"),
    ("ron", "Romanian"),
    ("rus", "Russian"),
    ("san", "Sanskrit"),
    ("sin", "Sinhala"),
    ("slk", "Slovak"),
    ("slv", "Slovenian"),
    ("snd", "Sindhi"),
    ("spa", "Spanish"),
    ("spa_old", "Spanish (old)"),
    ("sqi", "Albanian"),
    ("srp", "Serbian"),
    ("srp_latn", "Serbian (Latin)"),
    ("sun", "Sundanese"),
    ("swa", "Swahili"),
    ("swe", "Swedish"),
    ("syr", "Syriac"),
    ("tam", "Tamil"),
    ("tat", "Tatar"),
    ("tel", "Telugu"),
    ("tgk", "Tajik"),
    ("tha", "Thai"),
    ("tir", "Tigrinya"),
    ("ton", "Tongan"),
    ("tur", "Turkish"),
    ("uig", "Uyghur"),
    ("ukr", "Ukrainian"),
    ("urd", "Urdu"),
    ("uzb", "Uzbek"),
    ("uzb_cyrl", "Uzbek (Cyrillic)"),
    ("vie", "Vietnamese"),
    ("yid", "Yiddish"),
    ("yor", "Yoruba"),
];

/// A person's name for a Tesseract language code (`deu` → German, `frk` →
/// German (Fraktur)); a script model (`Fraktur`, `script/Latin`, named with a
/// capital) is "Fraktur script"; other codes are shown as they are.
pub fn display_name(code: &str) -> Cow<'_, str> {
    if let Some((_, name)) = NAMES.iter().find(|(c, _)| *c == code) {
        return Cow::Borrowed(name);
    }
    let script = code.strip_prefix("script/").unwrap_or(code);
    if script.starts_with(|c: char| c.is_ascii_uppercase()) {
        return Cow::Owned(format!("{} script", script.replace('_', " ")));
    }
    Cow::Borrowed(code)
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
        assert_eq!(describe("frk+Fraktur"), "German (Fraktur) + Fraktur script");
        assert_eq!(display_name("script/Latin"), "Latin script");
        assert_eq!(
            display_name("chi_sim_vert"),
            "Chinese (simplified, vertical)"
        );
        assert_eq!(describe("xyz"), "xyz");
    }

    #[test]
    fn every_language_installed_here_has_a_name() {
        let here = installed(tessdata_dir(None).as_deref());
        for code in &here {
            assert_ne!(display_name(code), code.as_str(), "{code} has no name");
        }
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
