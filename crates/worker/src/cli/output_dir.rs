//! Writes one document's outputs under `DIR/<file stem>/`.

use std::fs;
use std::path::{Path, PathBuf};

use scribe_core::formats::Formats;
use scribe_core::results::PageSource;
use scribe_worker::ocr::assemble::Assembled;
use scribe_worker::ocr::page::PageArtifacts;
use scribe_worker::ocr::{ResultSink, SinkError};

pub struct OutputDir {
    pub dir: PathBuf,
    formats: Formats,
    /// Whether this run made `dir` (one the user made is theirs to keep).
    made: bool,
}

impl OutputDir {
    /// Picks `root/<stem>`, adding `-2`, `-3`… when an earlier input of this run took it.
    pub fn create(
        root: &Path,
        input: &Path,
        formats: Formats,
        taken: &mut Vec<PathBuf>,
    ) -> std::io::Result<Self> {
        let stem = input
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .filter(|s| !s.is_empty() && s != "." && s != "..")
            .unwrap_or_else(|| "document".to_owned());
        let mut dir = root.join(&stem);
        let mut n = 2;
        while taken.contains(&dir) {
            dir = root.join(format!("{stem}-{n}"));
            n += 1;
        }
        taken.push(dir.clone());
        let made = !dir.exists();
        fs::create_dir_all(&dir)?;
        Ok(Self { dir, formats, made })
    }
}

impl ResultSink for OutputDir {
    fn page(&mut self, page: &PageArtifacts) -> Result<(), SinkError> {
        self.write_page(page)
            .map_err(|e| SinkError::Failed(format!("{}: {e}", self.dir.display())))
    }

    fn finish(&mut self, assembled: &Assembled) -> Result<(), SinkError> {
        for (name, path) in &assembled.files {
            fs::copy(path, self.dir.join(name))
                .map_err(|e| SinkError::Failed(format!("{}: {e}", self.dir.display())))?;
        }
        Ok(())
    }
}

impl OutputDir {
    /// Takes the directory this run made away again if nothing was written
    /// to it (a file none of whose pages could be read).
    pub fn remove_if_empty(&self) {
        if self.made {
            // Refused unless empty: a file that failed after some pages
            // were written keeps them.
            let _ = fs::remove_dir(&self.dir);
        }
    }

    fn write_page(&mut self, page: &PageArtifacts) -> std::io::Result<()> {
        // A page not read has nothing of its own; its place is kept in the
        // document's outputs, and its reason in the warning.
        if page.result.source == PageSource::Unread {
            return Ok(());
        }
        let n = page.result.number;
        if self.formats.txt {
            fs::write(self.dir.join(format!("page-{n:04}.txt")), &page.result.text)?;
        }
        if let Some(hocr) = page.hocr.as_ref().filter(|_| self.formats.hocr) {
            fs::write(
                self.dir.join(format!("page-{n:04}.hocr")),
                scribe_core::hocr::document([hocr.as_str()]),
            )?;
        }
        if let Some(png) = page.preview_png.as_ref().filter(|_| self.formats.preview) {
            fs::write(self.dir.join(format!("page-{n:04}.png")), png)?;
        }
        Ok(())
    }
}
