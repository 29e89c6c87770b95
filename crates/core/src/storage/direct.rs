//! Uploads written to the local disk around the page cache (`O_DIRECT`).
//!
//! A 202 promises the bytes are on disk, so every upload ends in a sync. Written
//! through the page cache, a 1 MB upload costs a copy into the cache and then a
//! flush of all of it at the sync (measured here: ~7 ms wall, ~3.4 ms CPU);
//! written straight from our own aligned buffers, the same bytes cost ~1 ms and a
//! tenth of the CPU. Filesystems that refuse `O_DIRECT` (tmpfs, some network
//! mounts) get ordinary buffered writes and the same sync.
//!
//! Every trip to a blocking thread costs a wake-up and two context switches; at
//! the door's full rate those were a fifth of the web's CPU. So nothing touches
//! the disk until a buffer is full or the upload ends: an upload that fits one
//! buffer is opened, written and synced in a single trip, and a larger one has
//! each full buffer written while the next fills (never more than two buffers
//! per upload).

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use tokio::task::{JoinHandle, spawn_blocking};

/// Offsets, lengths and addresses of direct writes are multiples of this: the
/// largest logical block size of common disks.
const ALIGN: usize = 4096;
/// Bytes gathered before one write: a typical scan or photo fits in one.
const BUFFER: usize = 1024 * 1024;
/// Idle buffers kept for the next uploads (each is `BUFFER` bytes).
const POOLED: usize = 32;

/// The storage root, and the buffers uploads borrow.
#[derive(Clone)]
pub struct Disk {
    root: PathBuf,
    pool: Arc<Mutex<Vec<Aligned>>>,
}

impl Disk {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self {
            root: root.into(),
            pool: Arc::default(),
        }
    }

    /// Starts the file for `key` (a storage key such as `uploads/<job>/<id>/original`).
    /// The file and its directories are made by its first write.
    pub fn create(&self, key: &str) -> DiskFile {
        DiskFile {
            disk: self.clone(),
            path: self.root.join(key),
            open: None,
            created: Vec::new(),
            filling: None,
            writing: None,
            offset: 0,
            size: 0,
            done: false,
        }
    }

    fn buffer(&self) -> Aligned {
        self.pool
            .lock()
            .ok()
            .and_then(|mut pool| pool.pop())
            .unwrap_or_else(Aligned::new)
    }

    fn give_back(&self, mut buffer: Aligned) {
        buffer.len = 0;
        if let Ok(mut pool) = self.pool.lock()
            && pool.len() < POOLED
        {
            pool.push(buffer);
        }
    }
}

/// The file, once a write has opened it.
#[derive(Clone)]
struct Open {
    file: Arc<File>,
    /// False when the filesystem refused direct writes.
    direct: bool,
}

/// One file being written. Dropped or aborted before [`DiskFile::finish`], it
/// removes what it wrote.
pub struct DiskFile {
    disk: Disk,
    path: PathBuf,
    /// `None` until the first write.
    open: Option<Open>,
    /// Directories the first write made, deepest first.
    created: Vec<PathBuf>,
    filling: Option<Aligned>,
    /// The previous full buffer, on its way to the disk.
    writing: Option<JoinHandle<io::Result<Written>>>,
    /// Where the next full buffer goes.
    offset: u64,
    size: u64,
    done: bool,
}

/// A finished write: the buffer to reuse, the file to go on with, and the
/// directories made if this write was the first.
struct Written {
    buffer: Aligned,
    open: Open,
    created: Vec<PathBuf>,
}

impl DiskFile {
    pub async fn write(&mut self, mut bytes: &[u8]) -> io::Result<()> {
        while !bytes.is_empty() {
            // A full buffer goes out only once more bytes come, so the last
            // one travels with the sync in `finish`.
            if self.filling.as_ref().is_some_and(Aligned::is_full) {
                self.send_full().await?;
            }
            let filling = self.filling.get_or_insert_with(|| self.disk.buffer());
            let taken = filling.push(bytes);
            bytes = &bytes[taken..];
            self.size += taken as u64;
        }
        Ok(())
    }

    /// Writes the rest, syncs the file and its new directories, and returns the size.
    pub async fn finish(mut self) -> io::Result<u64> {
        if let Some(spare) = self.settle().await? {
            self.disk.give_back(spare);
        }
        let tail = self.filling.take().unwrap_or_else(|| self.disk.buffer());
        let size = self.size;
        // The padding of the last block goes; the size is part of what syncs.
        self.send(tail, move |file| {
            file.set_len(size).and_then(|()| file.sync_data())
        });
        if let Some(buffer) = self.settle().await? {
            self.disk.give_back(buffer);
        }
        self.done = true;
        Ok(self.size)
    }

    /// Removes what was written, now rather than in the background.
    pub async fn abort(mut self) {
        let _ = self.settle().await;
        self.done = true;
        if self.open.is_none() {
            return;
        }
        let (path, created) = (self.path.clone(), std::mem::take(&mut self.created));
        let _ = spawn_blocking(move || remove(&path, &created)).await;
    }

    async fn send_full(&mut self) -> io::Result<()> {
        let next = match self.settle().await? {
            Some(spare) => spare,
            None => self.disk.buffer(),
        };
        if let Some(full) = self.filling.replace(next) {
            self.send(full, |_| Ok(()));
        }
        Ok(())
    }

    /// Starts writing `buffer` at the next offset on a blocking thread, then
    /// `then` on the file; [`DiskFile::settle`] waits for it.
    fn send(
        &mut self,
        mut buffer: Aligned,
        then: impl FnOnce(&File) -> io::Result<()> + Send + 'static,
    ) {
        let (open, path, offset) = (self.open.clone(), self.path.clone(), self.offset);
        self.offset += buffer.len as u64;
        self.writing = Some(spawn_blocking(move || {
            let (open, created) = put(&path, open, &mut buffer, offset, then)?;
            Ok(Written {
                buffer,
                open,
                created,
            })
        }));
    }

    /// Waits for the write in flight; returns its buffer, emptied.
    async fn settle(&mut self) -> io::Result<Option<Aligned>> {
        // Awaited where it lies: should this future be dropped meanwhile (the
        // request gone), `Drop` still finds the write and removes what it made.
        let Some(writing) = self.writing.as_mut() else {
            return Ok(None);
        };
        let outcome = writing.await;
        self.writing = None;
        let Written {
            mut buffer,
            open,
            created,
        } = outcome.map_err(io::Error::other)??;
        buffer.len = 0;
        self.open = Some(open);
        self.created.extend(created);
        Ok(Some(buffer))
    }
}

impl Drop for DiskFile {
    fn drop(&mut self) {
        if let Some(buffer) = self.filling.take() {
            self.disk.give_back(buffer);
        }
        if self.done || (self.open.is_none() && self.writing.is_none()) {
            return;
        }
        // A dropped request (the client went away): nothing half-written stays.
        let (path, mut created) = (self.path.clone(), std::mem::take(&mut self.created));
        let writing = self.writing.take();
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => drop(runtime.spawn(async move {
                // The write in flight may be the one that makes the file.
                if let Some(writing) = writing
                    && let Ok(Ok(written)) = writing.await
                {
                    created.extend(written.created);
                }
                let _ = spawn_blocking(move || remove(&path, &created)).await;
            })),
            Err(_) => remove(&path, &created),
        }
    }
}

/// Writes `buffer`'s blocks at `offset` and then runs `then` on the file,
/// opening it first if `open` is `None`. Returns the file to go on with and
/// the directories made. The first write also syncs the directories whose
/// entries it added; if it fails, it leaves nothing behind.
fn put(
    path: &Path,
    open: Option<Open>,
    buffer: &mut Aligned,
    offset: u64,
    then: impl FnOnce(&File) -> io::Result<()>,
) -> io::Result<(Open, Vec<PathBuf>)> {
    if let Some(open) = open {
        let open = write_blocks(open, path, buffer, offset)?;
        then(&open.file)?;
        return Ok((open, Vec::new()));
    }
    let (file, direct, created) = open_new(path)?;
    let first = Open {
        file: Arc::new(file),
        direct,
    };
    let written = write_blocks(first, path, buffer, offset).and_then(|open| {
        then(&open.file)?;
        dirs_to_sync(path, &created)
            .iter()
            .try_for_each(|d| File::open(d)?.sync_all())?;
        Ok(open)
    });
    match written {
        Ok(open) => Ok((open, created)),
        Err(e) => {
            remove(path, &created);
            Err(e)
        }
    }
}

/// Opens `path` for a new file, directly if the filesystem allows it; returns
/// the directories it had to create, deepest first (or, failing, removes them).
fn open_new(path: &Path) -> io::Result<(File, bool, Vec<PathBuf>)> {
    let created = match path.parent() {
        Some(parent) => make_dirs(parent)?,
        None => Vec::new(),
    };
    let mut options = OpenOptions::new();
    options.write(true).create(true).truncate(true);
    let opened = match options.clone().custom_flags(libc::O_DIRECT).open(path) {
        Ok(file) => Ok((file, true)),
        Err(e) if e.raw_os_error() == Some(libc::EINVAL) => options.open(path).map(|f| (f, false)),
        Err(e) => Err(e),
    };
    match opened {
        Ok((file, direct)) => Ok((file, direct, created)),
        Err(e) => {
            remove(path, &created);
            Err(e)
        }
    }
}

/// Creates `dir` and its missing parents; returns those this call created,
/// deepest first. Only a directory whose `mkdir` succeeded here counts, so two
/// uploads racing to make a shared parent never both (or neither) sync it.
fn make_dirs(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut created = Vec::new();
    let mut attempts = 0;
    'again: loop {
        let mut missing: Vec<&Path> = dir.ancestors().take_while(|d| !d.exists()).collect();
        missing.reverse();
        for d in missing {
            match std::fs::create_dir(d) {
                Ok(()) => created.push(d.to_path_buf()),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                // A parent that an abandoned upload just removed: look again.
                Err(e) if e.kind() == io::ErrorKind::NotFound && attempts < 3 => {
                    attempts += 1;
                    continue 'again;
                }
                Err(e) => return Err(e),
            }
        }
        created.reverse();
        return Ok(created);
    }
}

/// The directories whose entries change when `path` and `created` appear.
fn dirs_to_sync(path: &Path, created: &[PathBuf]) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = path.parent().map(Path::to_path_buf).into_iter().collect();
    dirs.extend(
        created
            .iter()
            .filter_map(|d| d.parent())
            .map(Path::to_path_buf),
    );
    dirs.dedup();
    dirs
}

/// Writes a buffer's whole blocks at `offset`; returns the file to go on with,
/// which is a buffered one if the filesystem refused the direct write.
fn write_blocks(open: Open, path: &Path, buffer: &mut Aligned, offset: u64) -> io::Result<Open> {
    match open.file.write_all_at(buffer.blocks(), offset) {
        Ok(()) => Ok(open),
        Err(e) if open.direct && e.raw_os_error() == Some(libc::EINVAL) => {
            tracing::debug!(path = %path.display(), "direct write refused; writing through the cache");
            let buffered = OpenOptions::new().write(true).open(path)?;
            buffered.write_all_at(buffer.blocks(), offset)?;
            Ok(Open {
                file: Arc::new(buffered),
                direct: false,
            })
        }
        Err(e) => Err(e),
    }
}

fn remove(path: &Path, created: &[PathBuf]) {
    let _ = std::fs::remove_file(path);
    for dir in created {
        // Only empty ones go: another upload of the same job may be in there.
        let _ = std::fs::remove_dir(dir);
    }
}

/// `BUFFER` bytes at an `ALIGN`-aligned address, inside an ordinary vector that
/// is never resized (so the address stays put when the buffer moves).
struct Aligned {
    bytes: Vec<u8>,
    start: usize,
    len: usize,
}

impl Aligned {
    fn new() -> Self {
        let bytes = vec![0u8; BUFFER + ALIGN];
        let address = bytes.as_ptr() as usize;
        let start = (ALIGN - address % ALIGN) % ALIGN;
        Self {
            bytes,
            start,
            len: 0,
        }
    }

    /// Copies as much of `bytes` as fits; returns how much that was.
    fn push(&mut self, bytes: &[u8]) -> usize {
        let taken = bytes.len().min(BUFFER - self.len);
        let at = self.start + self.len;
        self.bytes[at..at + taken].copy_from_slice(&bytes[..taken]);
        self.len += taken;
        taken
    }

    fn is_full(&self) -> bool {
        self.len == BUFFER
    }

    /// The content as whole blocks, the last one padded with zeros.
    fn blocks(&mut self) -> &[u8] {
        let padded = self.len.next_multiple_of(ALIGN);
        let (from, to) = (self.start + self.len, self.start + padded);
        self.bytes[from..to].fill(0);
        &self.bytes[self.start..to]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pattern(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 7 + i / 4093) as u8).collect()
    }

    /// Whether `path` is gone within a second (a dropped file is removed in the background).
    async fn removed_soon(path: &Path) -> bool {
        for _ in 0..100 {
            if !path.exists() {
                return true;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        false
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn writes_every_size_exactly_in_odd_chunks() {
        let root = tempfile::tempdir().expect("temp dir");
        let disk = Disk::new(root.path());
        let sizes = [
            1,
            4095,
            4096,
            4097,
            BUFFER - 1,
            BUFFER,
            BUFFER + 1,
            3 * BUFFER + 12345,
        ];
        for (i, &size) in sizes.iter().enumerate() {
            let body = pattern(size);
            let key = format!("uploads/job/{i}/original");
            let mut file = disk.create(&key);
            for chunk in body.chunks(1000 + i * 997) {
                file.write(chunk).await.expect("disk io");
            }
            assert_eq!(file.finish().await.expect("disk io"), size as u64);
            let stored = std::fs::read(root.path().join(&key)).expect("disk io");
            assert_eq!(stored.len(), size, "size {size}");
            assert!(stored == body, "content of size {size}");
        }
        let pooled = disk.pool.lock().expect("pool lock").len();
        assert!((1..=2).contains(&pooled), "{pooled} buffers pooled");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_abandoned_file_leaves_nothing() {
        let root = tempfile::tempdir().expect("temp dir");
        let disk = Disk::new(root.path());
        let mut aborted = disk.create("uploads/a/1/original");
        aborted
            .write(&pattern(BUFFER * 2 + 5))
            .await
            .expect("disk io");
        aborted.abort().await;
        assert!(!root.path().join("uploads/a").exists());

        let mut kept = disk.create("uploads/b/1/original");
        kept.write(b"kept").await.expect("disk io");
        kept.finish().await.expect("disk io");
        let mut dropped = disk.create("uploads/b/2/original");
        // One buffer on disk, the next on its way.
        dropped
            .write(&pattern(BUFFER * 2 + 1))
            .await
            .expect("disk io");
        drop(dropped);
        assert!(
            removed_soon(&root.path().join("uploads/b/2")).await,
            "a dropped file is removed"
        );
        let kept = std::fs::read(root.path().join("uploads/b/1/original")).expect("disk io");
        assert_eq!(kept, b"kept", "a sibling upload is untouched");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_disk_is_untouched_until_a_buffer_is_full() {
        let root = tempfile::tempdir().expect("temp dir");
        let disk = Disk::new(root.path());
        let mut small = disk.create("uploads/a/1/original");
        small.write(&pattern(BUFFER)).await.expect("disk io");
        assert!(
            !root.path().join("uploads").exists(),
            "one full buffer waits for more"
        );
        small.abort().await;
        assert!(!root.path().join("uploads").exists());

        let mut large = disk.create("uploads/a/2/original");
        large.write(&pattern(BUFFER + 1)).await.expect("disk io");
        drop(large);
        assert!(
            removed_soon(&root.path().join("uploads/a")).await,
            "a file dropped while its first write is in flight is removed"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_request_dropped_while_it_waits_for_the_disk_leaves_nothing() {
        use futures_util::FutureExt;
        let root = tempfile::tempdir().expect("temp dir");
        let disk = Disk::new(root.path());

        // Polled once, then dropped: what a request cut during its sync does.
        let mut finishing = disk.create("uploads/a/1/original");
        finishing.write(b"small").await.expect("disk io");
        if let Some(done) = finishing.finish().now_or_never() {
            // Only a disk quicker than one poll gets here, and then the file is whole.
            assert_eq!(done.expect("disk io"), 5);
        } else {
            assert!(removed_soon(&root.path().join("uploads/a")).await);
        }

        let (first, more) = (pattern(BUFFER + 1), pattern(BUFFER));
        let mut waiting = disk.create("uploads/b/1/original");
        waiting
            .write(&first)
            .await
            .expect("the first write is on its way");
        // Usually cut while it waits for the first write; if that was quicker,
        // the file is still to be removed as a dropped one.
        let _ = waiting.write(&more).now_or_never();
        drop(waiting);
        assert!(removed_soon(&root.path().join("uploads/b")).await);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_file_that_cannot_be_made_fails_and_leaves_nothing() {
        let root = tempfile::tempdir().expect("temp dir");
        let disk = Disk::new(root.path());
        // Its directories can be made, the file cannot: no filesystem takes such a name.
        let key = format!("uploads/b/1/{}", "x".repeat(300));
        let left = || std::fs::read_dir(root.path()).expect("readdir").count();

        let mut small = disk.create(&key);
        small.write(b"bytes").await.expect("nothing is written yet");
        assert!(small.finish().await.is_err());
        assert_eq!(left(), 0, "no directory stays");

        let mut large = disk.create(&key);
        large
            .write(&pattern(BUFFER + 10))
            .await
            .expect("the first write is on its way");
        assert!(large.finish().await.is_err());
        assert_eq!(left(), 0, "no directory stays");
    }

    #[test]
    fn a_shared_parent_is_counted_by_the_upload_that_made_it() {
        let root = tempfile::tempdir().expect("temp dir");
        let first = make_dirs(&root.path().join("uploads/a/1")).expect("mkdir");
        let second = make_dirs(&root.path().join("uploads/b/1")).expect("mkdir");
        let uploads = root.path().join("uploads");
        assert_eq!(first.last(), Some(&uploads), "{first:?}");
        assert_eq!(first.first(), Some(&uploads.join("a/1")), "deepest first");
        assert_eq!(second, [uploads.join("b/1"), uploads.join("b")]);
    }

    #[test]
    fn buffers_are_aligned_and_padding_is_zero() {
        let mut buffer = Aligned::new();
        buffer.bytes.fill(0xff);
        assert_eq!(buffer.push(&[1, 2, 3]), 3);
        let blocks = buffer.blocks();
        assert_eq!(blocks.as_ptr() as usize % ALIGN, 0);
        assert_eq!(blocks.len(), ALIGN);
        assert_eq!(&blocks[..4], &[1, 2, 3, 0]);
        assert!(blocks[3..].iter().all(|&b| b == 0));
        assert_eq!(buffer.push(&vec![9; BUFFER]), BUFFER - 3);
        assert!(buffer.is_full());
        assert_eq!(buffer.push(&[1]), 0);
    }

    #[test]
    fn new_directories_and_the_parent_of_each_are_synced() {
        let path = Path::new("/r/uploads/j/u/original");
        let created = [
            PathBuf::from("/r/uploads/j/u"),
            PathBuf::from("/r/uploads/j"),
        ];
        assert_eq!(
            dirs_to_sync(path, &created),
            ["/r/uploads/j/u", "/r/uploads/j", "/r/uploads"].map(PathBuf::from)
        );
        assert_eq!(dirs_to_sync(path, &[]), [PathBuf::from("/r/uploads/j/u")]);
    }
}
