//! Shared memory the guest also maps (rings, command and reply buffers), accessed only through
//! bounds-checked copies and atomics: the guest writes it concurrently, so we never form Rust
//! references to its bytes.

use std::os::fd::OwnedFd;
use std::sync::atomic::AtomicU32;

use virgl_resource::SharedMemory;

use crate::VenusError;

/// Our own mapping of an SHM resource.
#[derive(Debug)]
pub struct Shm {
    mem: SharedMemory,
}

impl Shm {
    /// Maps `size` bytes of the memfd `fd` (a dup of the resource's fd).
    pub fn from_fd(fd: OwnedFd, size: u64) -> Result<Self, VenusError> {
        let mem = SharedMemory::from_fd(fd, size).map_err(|e| VenusError::Host(e.to_string()))?;
        Ok(Self { mem })
    }

    /// Wraps shared memory we created.
    pub fn new(mem: SharedMemory) -> Self {
        Self { mem }
    }

    /// The start of our mapping (page-aligned), for importing it as Vulkan host memory; the
    /// importer must keep this `Shm` alive while the import lives.
    pub(crate) fn as_ptr(&self) -> *mut u8 {
        self.mem.mapping().as_ptr()
    }

    #[allow(clippy::len_without_is_empty)]
    pub fn len(&self) -> usize {
        self.mem.mapping().len()
    }

    fn range(&self, offset: u64, len: usize) -> Result<usize, VenusError> {
        let start = usize::try_from(offset).map_err(|_| VenusError::TooLarge("shm offset"))?;
        match start.checked_add(len) {
            Some(end) if end <= self.len() => Ok(start),
            _ => Err(VenusError::Invalid(format!(
                "shm range {offset}+{len} outside {} bytes",
                self.len()
            ))),
        }
    }

    /// Copies `dst.len()` bytes out at `offset`.
    pub fn read(&self, offset: u64, dst: &mut [u8]) -> Result<(), VenusError> {
        let start = self.range(offset, dst.len())?;
        // SAFETY: `start..start+len` is inside the live mapping (checked); the source is raw
        // shared memory (never referenced as a Rust slice) and `dst` is ours, so they do not
        // overlap.
        unsafe {
            std::ptr::copy_nonoverlapping(
                self.mem.mapping().as_ptr().add(start),
                dst.as_mut_ptr(),
                dst.len(),
            );
        }
        Ok(())
    }

    /// Copies `src` in at `offset`.
    pub fn write(&self, offset: u64, src: &[u8]) -> Result<(), VenusError> {
        let start = self.range(offset, src.len())?;
        // SAFETY: as in `read`, with the roles swapped; the mapping is writable.
        unsafe {
            std::ptr::copy_nonoverlapping(
                src.as_ptr(),
                self.mem.mapping().as_ptr().add(start),
                src.len(),
            );
        }
        Ok(())
    }

    /// The u32 at `offset` as an atomic (ring head/tail/status, extra words).
    pub fn atomic_u32(&self, offset: u64) -> Result<&AtomicU32, VenusError> {
        if !offset.is_multiple_of(4) {
            return Err(VenusError::Invalid(format!("unaligned ring word {offset}")));
        }
        let start = self.range(offset, 4)?;
        // SAFETY: in bounds, 4-byte aligned (mmap is page aligned, offset checked), valid for
        // the lifetime of `self` (the mapping is owned by it); AtomicU32 has u32's layout and
        // every access to this word from us is atomic.
        Ok(unsafe { AtomicU32::from_ptr(self.mem.mapping().as_ptr().add(start).cast()) })
    }
}
