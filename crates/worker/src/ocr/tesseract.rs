//! The one place Scribe touches Tesseract's C API. leptess 0.14 keeps its
//! engine handle private, and the searchable-PDF renderer and orientation
//! detection need that handle, so the engine is driven through `leptess::capi`
//! here and everything outside this module stays safe.
#![allow(unsafe_code)]

use std::ffi::{CStr, CString, c_char};
use std::path::Path;
use std::ptr::{self, NonNull};

use image::{GrayImage, RgbImage};
use leptess::capi;

#[derive(Debug, thiserror::Error)]
pub enum TesseractError {
    #[error("Tesseract could not load language `{lang}` from {dir}")]
    Init { lang: String, dir: String },
    #[error("Tesseract failed to recognise the page")]
    Recognize,
    #[error("Tesseract returned no {0}")]
    NoOutput(&'static str),
    #[error("the page image could not be handed to Tesseract")]
    Image,
    #[error("the searchable PDF page could not be written")]
    Pdf,
    #[error("a path or setting contains a NUL byte")]
    Nul(#[from] std::ffi::NulError),
}

/// An 8-bit leptonica image owned by us.
pub struct Pix(NonNull<capi::Pix>);

impl Pix {
    pub fn from_gray(image: &GrayImage, dpi: Option<u32>) -> Result<Self, TesseractError> {
        let (w, h) = image.dimensions();
        let pix = Self::blank(w, h, 8, dpi)?;
        // SAFETY: the pix is valid; wpl is its row stride in 32-bit words and
        // data points at h × wpl words, all owned by the pix.
        unsafe {
            let wpl = capi::pixGetWpl(pix.0.as_ptr()) as usize;
            let data = capi::pixGetData(pix.0.as_ptr()).cast::<u8>();
            for (y, row) in image.as_raw().chunks_exact(w as usize).enumerate() {
                ptr::copy_nonoverlapping(row.as_ptr(), data.add(y * wpl * 4), row.len());
            }
            // Leptonica packs pixels most-significant byte first within each
            // 32-bit word; this turns our byte order into its word order (a
            // no-op on big-endian hosts).
            capi::pixEndianByteSwap(pix.0.as_ptr());
        }
        Ok(pix)
    }

    /// A 32-bit leptonica image of `image`'s colour: Tesseract then thresholds
    /// each channel on its own, as the `tesseract` command does for a colour file.
    pub fn from_rgb(image: &RgbImage, dpi: Option<u32>) -> Result<Self, TesseractError> {
        let (w, h) = image.dimensions();
        let pix = Self::blank(w, h, 32, dpi)?;
        // SAFETY: the pix is valid; each row is wpl 32-bit words (one per pixel
        // at this depth), h rows, all owned by the pix.
        unsafe {
            let wpl = capi::pixGetWpl(pix.0.as_ptr()) as usize;
            let data = capi::pixGetData(pix.0.as_ptr());
            for (y, row) in image.as_raw().chunks_exact(w as usize * 3).enumerate() {
                let line = std::slice::from_raw_parts_mut(data.add(y * wpl), w as usize);
                for (word, p) in line.iter_mut().zip(row.chunks_exact(3)) {
                    // Leptonica's RGBA word: red in the most significant byte.
                    *word =
                        (u32::from(p[0]) << 24) | (u32::from(p[1]) << 16) | (u32::from(p[2]) << 8);
                }
            }
        }
        Ok(pix)
    }

    /// A zeroed `w × h` image of `depth` bits per pixel at `dpi`.
    fn blank(w: u32, h: u32, depth: i32, dpi: Option<u32>) -> Result<Self, TesseractError> {
        let (wi, hi) = (
            i32::try_from(w).map_err(|_| TesseractError::Image)?,
            i32::try_from(h).map_err(|_| TesseractError::Image)?,
        );
        // SAFETY: pixCreate allocates a zeroed image or returns null.
        let raw =
            NonNull::new(unsafe { capi::pixCreate(wi, hi, depth) }).ok_or(TesseractError::Image)?;
        let pix = Pix(raw);
        if let Some(dpi) = dpi.and_then(|d| i32::try_from(d).ok()) {
            // SAFETY: the pix is valid and ours.
            unsafe { capi::pixSetResolution(pix.0.as_ptr(), dpi, dpi) };
        }
        Ok(pix)
    }

    /// A second reference to the same pixels, for APIs that take ownership.
    fn clone_ref(&self) -> *mut capi::Pix {
        // SAFETY: pixClone bumps the reference count of a valid pix.
        unsafe { capi::pixClone(self.0.as_ptr()) }
    }
}

impl Drop for Pix {
    fn drop(&mut self) {
        let mut raw = self.0.as_ptr();
        // SAFETY: we own one reference; pixDestroy releases it and nulls the pointer.
        unsafe { capi::pixDestroy(&mut raw) };
    }
}

/// A rectangle of the image Tesseract read, in its pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Area {
    pub left: u32,
    pub top: u32,
    pub width: u32,
    pub height: u32,
}

impl Area {
    pub const fn new(left: u32, top: u32, width: u32, height: u32) -> Self {
        Self {
            left,
            top,
            width,
            height,
        }
    }

    /// Whether the two share a point, edges included.
    pub fn touches(&self, other: &Area) -> bool {
        self.left <= other.left + other.width
            && other.left <= self.left + self.width
            && self.top <= other.top + other.height
            && other.top <= self.top + self.height
    }

    /// The smallest area holding both.
    pub fn union(&self, other: &Area) -> Area {
        let (left, top) = (self.left.min(other.left), self.top.min(other.top));
        let right = (self.left + self.width).max(other.left + other.width);
        let bottom = (self.top + self.height).max(other.top + other.height);
        Area {
            left,
            top,
            width: right - left,
            height: bottom - top,
        }
    }

    /// The area between two corners as Tesseract gives them (empty if reversed).
    fn between(left: i32, top: i32, right: i32, bottom: i32) -> Self {
        let (l, t) = (left.max(0), top.max(0));
        Self {
            left: l as u32,
            top: t as u32,
            width: (right - l).max(0) as u32,
            height: (bottom - t).max(0) as u32,
        }
    }
}

/// A piece of a reading, in reading order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Passage {
    /// A paragraph as [`Api::text`] has it, line breaks included.
    Text {
        block: u32,
        area: Area,
        text: String,
    },
    /// A block layout analysis took for a picture: the reading holds nothing of it.
    Picture { block: u32, area: Area },
}

impl Passage {
    /// The block it is part of, counted from 1 in Tesseract's order.
    pub fn block(&self) -> u32 {
        match self {
            Self::Text { block, .. } | Self::Picture { block, .. } => *block,
        }
    }
}

/// The linked Tesseract library's version, as `tesseract --version` says it.
pub fn version() -> String {
    // SAFETY: TessVersion returns a static NUL-terminated string.
    let raw = unsafe { capi::TessVersion() };
    if raw.is_null() {
        return "unknown".to_owned();
    }
    // SAFETY: non-null, NUL-terminated and static (above).
    unsafe { CStr::from_ptr(raw) }
        .to_string_lossy()
        .into_owned()
}

/// One initialised Tesseract engine. Send but not Sync: one per thread.
pub struct Api(NonNull<capi::TessBaseAPI>);

// SAFETY: a TessBaseAPI has no thread affinity; it is only unsafe to use from
// two threads at once, which `&mut self` on every call prevents.
unsafe impl Send for Api {}

pub const PSM_OSD_ONLY: u32 = capi::TessPageSegMode_PSM_OSD_ONLY;
/// Full layout analysis without OSD: what the `tesseract` command does by default.
pub const PSM_AUTO: u32 = capi::TessPageSegMode_PSM_AUTO;
pub const PSM_SINGLE_LINE: u32 = capi::TessPageSegMode_PSM_SINGLE_LINE;
pub const PSM_SPARSE_TEXT: u32 = capi::TessPageSegMode_PSM_SPARSE_TEXT;

impl Api {
    pub fn new(tessdata: &Path, lang: &str) -> Result<Self, TesseractError> {
        let dir = CString::new(tessdata.to_string_lossy().as_bytes())?;
        let clang = CString::new(lang)?;
        // SAFETY: TessBaseAPICreate returns a fresh handle or null.
        let raw =
            NonNull::new(unsafe { capi::TessBaseAPICreate() }).ok_or(TesseractError::Init {
                lang: lang.to_owned(),
                dir: tessdata.display().to_string(),
            })?;
        let api = Api(raw);
        // SAFETY: valid handle and NUL-terminated strings that outlive the call.
        let rc = unsafe { capi::TessBaseAPIInit3(api.0.as_ptr(), dir.as_ptr(), clang.as_ptr()) };
        if rc != 0 {
            return Err(TesseractError::Init {
                lang: lang.to_owned(),
                dir: tessdata.display().to_string(),
            });
        }
        Ok(api)
    }

    pub fn set_variable(&mut self, name: &str, value: &str) -> Result<bool, TesseractError> {
        let (n, v) = (CString::new(name)?, CString::new(value)?);
        // SAFETY: valid handle and strings.
        Ok(unsafe { capi::TessBaseAPISetVariable(self.0.as_ptr(), n.as_ptr(), v.as_ptr()) } != 0)
    }

    pub fn set_page_seg_mode(&mut self, mode: u32) {
        // SAFETY: valid handle; Tesseract range-checks the mode.
        unsafe { capi::TessBaseAPISetPageSegMode(self.0.as_ptr(), mode) };
    }

    /// Sets the image to read. The PDF renderer also needs it as the input image,
    /// for the page size, though a text-only page never draws it.
    pub fn set_image(&mut self, ocr: &Pix, dpi: Option<u32>) {
        // SAFETY: SetImage copies or references the pix without taking our
        // reference; SetInputImage takes ownership of the clone we hand it.
        unsafe {
            capi::TessBaseAPISetImage2(self.0.as_ptr(), ocr.0.as_ptr());
            if let Some(dpi) = dpi.and_then(|d| i32::try_from(d).ok()) {
                capi::TessBaseAPISetSourceResolution(self.0.as_ptr(), dpi);
            }
            capi::TessBaseAPISetInputImage(self.0.as_ptr(), ocr.clone_ref());
        }
    }

    pub fn recognize(&mut self) -> Result<(), TesseractError> {
        // SAFETY: valid handle with an image set; a null monitor is allowed.
        match unsafe { capi::TessBaseAPIRecognize(self.0.as_ptr(), ptr::null_mut()) } {
            0 => Ok(()),
            _ => Err(TesseractError::Recognize),
        }
    }

    /// Recognises like [`Api::recognize`], giving up after `millis`.
    pub fn recognize_within(&mut self, millis: u32) -> Result<(), TesseractError> {
        // SAFETY: the monitor is created, handed to a valid handle for the
        // call only, and deleted here.
        unsafe {
            let monitor = capi::TessMonitorCreate();
            if monitor.is_null() {
                return Err(TesseractError::Recognize);
            }
            capi::TessMonitorSetDeadlineMSecs(monitor, i32::try_from(millis).unwrap_or(i32::MAX));
            let rc = capi::TessBaseAPIRecognize(self.0.as_ptr(), monitor);
            capi::TessMonitorDelete(monitor);
            if rc == 0 {
                Ok(())
            } else {
                Err(TesseractError::Recognize)
            }
        }
    }

    pub fn text(&mut self) -> Result<String, TesseractError> {
        // SAFETY: valid handle; the result is ours to free with TessDeleteText.
        take_text(
            unsafe { capi::TessBaseAPIGetUTF8Text(self.0.as_ptr()) },
            "text",
        )
    }

    /// hOCR for the recognised image; `page` is 0-based as Tesseract counts.
    pub fn hocr(&mut self, page: usize) -> Result<String, TesseractError> {
        let page = i32::try_from(page).unwrap_or(0);
        // SAFETY: as for `text`.
        take_text(
            unsafe { capi::TessBaseAPIGetHOCRText(self.0.as_ptr(), page) },
            "hOCR",
        )
    }

    pub fn tsv(&mut self, page: usize) -> Result<String, TesseractError> {
        let page = i32::try_from(page).unwrap_or(0);
        // SAFETY: as for `text`.
        take_text(
            unsafe { capi::TessBaseAPIGetTsvText(self.0.as_ptr(), page) },
            "TSV",
        )
    }

    pub fn mean_confidence(&mut self) -> i32 {
        // SAFETY: valid handle.
        unsafe { capi::TessBaseAPIMeanTextConf(self.0.as_ptr()) }
    }

    /// Orientation and script detection on the current image: Tesseract's
    /// counter-clockwise page orientation in degrees, and its confidence.
    pub fn detect_orientation(&mut self) -> Option<(i32, f32)> {
        let (mut deg, mut conf, mut script, mut script_conf) =
            (0, 0.0f32, ptr::null::<c_char>(), 0.0f32);
        // SAFETY: valid handle with an image set; out-pointers are to locals;
        // the script name points into Tesseract's static tables and is not freed.
        let ok = unsafe {
            capi::TessBaseAPIDetectOrientationScript(
                self.0.as_ptr(),
                &mut deg,
                &mut conf,
                &mut script,
                &mut script_conf,
            )
        };
        (ok != 0).then_some((deg, conf))
    }

    /// Writes the recognised page's invisible text, without the image, as a
    /// one-page PDF at `base`.pdf.
    pub fn write_pdf_page(&mut self, base: &Path, tessdata: &Path) -> Result<(), TesseractError> {
        let cbase = CString::new(base.to_string_lossy().as_bytes())?;
        let cdata = CString::new(tessdata.to_string_lossy().as_bytes())?;
        let title = CString::new("Scribe")?;
        // SAFETY: the renderer is created, used and deleted here; AddImage reads
        // the recognised results and the input image from a valid handle.
        unsafe {
            let renderer = capi::TessPDFRendererCreate(cbase.as_ptr(), cdata.as_ptr(), 1);
            if renderer.is_null() {
                return Err(TesseractError::Pdf);
            }
            let ok = capi::TessResultRendererBeginDocument(renderer, title.as_ptr()) != 0
                && capi::TessResultRendererAddImage(renderer, self.0.as_ptr()) != 0
                && capi::TessResultRendererEndDocument(renderer) != 0;
            capi::TessDeleteResultRenderer(renderer);
            if ok { Ok(()) } else { Err(TesseractError::Pdf) }
        }
    }

    /// Limits the next recognition to a rectangle of the current image; its
    /// results (boxes, text layer) stay in the whole image's coordinates.
    pub fn set_rectangle(&mut self, area: Area) {
        let dim = |v: u32| i32::try_from(v).unwrap_or(i32::MAX);
        // SAFETY: valid handle; Tesseract clips the rectangle to its image.
        unsafe {
            capi::TessBaseAPISetRectangle(
                self.0.as_ptr(),
                dim(area.left),
                dim(area.top),
                dim(area.width),
                dim(area.height),
            );
        }
    }

    /// The last reading in Tesseract's own order, paragraph by paragraph, with
    /// the blocks its layout analysis took for pictures in their places. The
    /// text passages joined are what [`Api::text`] returns.
    pub fn passages(&mut self) -> Vec<Passage> {
        let mut out = Vec::new();
        // SAFETY: valid handle after a recognition; the iterator is ours and
        // deleted below; its page iterator is borrowed from it, not freed;
        // each text is freed by `take_text`.
        unsafe {
            let it = capi::TessBaseAPIGetIterator(self.0.as_ptr());
            if it.is_null() {
                return out;
            }
            let page = capi::TessResultIteratorGetPageIterator(it);
            let mut block = 0u32;
            loop {
                if capi::TessPageIteratorIsAtBeginningOf(
                    page,
                    capi::TessPageIteratorLevel_RIL_BLOCK,
                ) != 0
                {
                    block += 1;
                }
                match capi::TessPageIteratorBlockType(page) {
                    capi::TessPolyBlockType_PT_FLOWING_IMAGE
                    | capi::TessPolyBlockType_PT_HEADING_IMAGE
                    | capi::TessPolyBlockType_PT_PULLOUT_IMAGE => {
                        let known = matches!(out.last(), Some(Passage::Picture { block: n, .. }) if *n == block);
                        if let (Some(area), false) =
                            (bounding(page, capi::TessPageIteratorLevel_RIL_BLOCK), known)
                        {
                            out.push(Passage::Picture { block, area });
                        }
                    }
                    capi::TessPolyBlockType_PT_HORZ_LINE | capi::TessPolyBlockType_PT_VERT_LINE => {
                    }
                    _ => {
                        let raw = capi::TessResultIteratorGetUTF8Text(
                            it,
                            capi::TessPageIteratorLevel_RIL_PARA,
                        );
                        let area = bounding(page, capi::TessPageIteratorLevel_RIL_PARA);
                        if let Ok(text) = take_text(raw, "paragraph") {
                            out.push(Passage::Text {
                                block,
                                area: area.unwrap_or(Area::between(0, 0, 0, 0)),
                                text,
                            });
                        }
                    }
                }
                if capi::TessResultIteratorNext(it, capi::TessPageIteratorLevel_RIL_PARA) == 0 {
                    break;
                }
            }
            capi::TessResultIteratorDelete(it);
        }
        out
    }

    /// Frees the current image and results so a large page is not kept alive.
    pub fn clear(&mut self) {
        // SAFETY: valid handle.
        unsafe { capi::TessBaseAPIClear(self.0.as_ptr()) };
    }
}

impl Drop for Api {
    fn drop(&mut self) {
        // SAFETY: we own the handle and nothing else refers to it.
        unsafe { capi::TessBaseAPIDelete(self.0.as_ptr()) };
    }
}

/// The box of the item at `level` where `page` stands, if it has one.
///
/// # Safety
/// `page` is a valid page iterator.
unsafe fn bounding(
    page: *mut capi::TessPageIterator,
    level: capi::TessPageIteratorLevel,
) -> Option<Area> {
    let (mut l, mut t, mut r, mut b) = (0, 0, 0, 0);
    // SAFETY: the caller's; the out-pointers are to locals.
    let boxed =
        unsafe { capi::TessPageIteratorBoundingBox(page, level, &mut l, &mut t, &mut r, &mut b) };
    (boxed != 0).then(|| Area::between(l, t, r, b))
}

fn take_text(raw: *mut c_char, what: &'static str) -> Result<String, TesseractError> {
    if raw.is_null() {
        return Err(TesseractError::NoOutput(what));
    }
    // SAFETY: Tesseract returns a NUL-terminated string it allocated; we copy
    // it and free it with the matching deallocator.
    unsafe {
        let text = CStr::from_ptr(raw).to_string_lossy().into_owned();
        capi::TessDeleteText(raw);
        Ok(text)
    }
}
