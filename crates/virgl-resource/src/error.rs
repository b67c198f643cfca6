//! The one error type of this crate.

use thiserror::Error;

/// Errors of the resource layer.
///
/// Every variant is something a hostile or buggy guest can cause (or an OS failure); none of
/// them is a reason to panic. Callers usually map them to `EINVAL`/`ENOMEM` at the C boundary.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ResourceError {
    /// Resource id 0 is reserved.
    #[error("resource id 0 is invalid")]
    ZeroId,
    /// A resource with this id exists already.
    #[error("resource {0} already exists")]
    DuplicateId(u32),
    /// No resource has this id.
    #[error("unknown resource {0}")]
    UnknownId(u32),
    /// The resource exists but is not attached to the context asking for it.
    #[error("resource {res_id} is not attached to context {ctx_id}")]
    NotAttached { ctx_id: u32, res_id: u32 },
    /// The resource already has backing memory (attach twice without detach).
    #[error("resource {0} already has backing memory")]
    AlreadyBacked(u32),
    /// The operation needs backing memory and the resource has none.
    #[error("resource {0} has no backing memory")]
    NoBacking(u32),
    /// The context would own more resources than its quota allows.
    #[error("context {ctx_id} is at its quota of {limit} resources")]
    ResourceQuota { ctx_id: u32, limit: u32 },
    /// The context would hold more host memory than its quota allows.
    #[error("context {ctx_id} would use {requested} bytes of host memory, quota is {limit}")]
    ByteQuota {
        ctx_id: u32,
        requested: u64,
        limit: u64,
    },
    /// An access would fall outside a memory region; nothing was copied.
    #[error("{what}: range {offset}+{len} is outside {size} bytes")]
    OutOfBounds {
        what: &'static str,
        offset: u64,
        len: u64,
        size: u64,
    },
    /// An intermediate size or offset does not fit its integer type.
    #[error("arithmetic overflow computing {0}")]
    Overflow(&'static str),
    /// A malformed argument; the string says which and why.
    #[error("invalid argument: {0}")]
    InvalidArgument(&'static str),
    /// `enum pipe_texture_target` value this layer does not know.
    #[error("invalid texture target {0}")]
    InvalidTarget(u32),
    /// Transfer level above the resource's last level.
    #[error("level {level} is above the last level {last_level}")]
    InvalidLevel { level: u32, last_level: u32 },
    /// The transfer box leaves the resource (at that level).
    #[error("transfer box {x},{y},{z} {width}x{height}x{depth} is outside the resource")]
    BoxOutside {
        x: u32,
        y: u32,
        z: u32,
        width: u32,
        height: u32,
        depth: u32,
    },
    /// A compressed-format box that does not start (or end, inside the image) on a block edge.
    #[error("transfer box is not aligned to the {block_width}x{block_height} block")]
    UnalignedBox { block_width: u32, block_height: u32 },
    /// A row or layer stride smaller than the data it must hold.
    #[error("{what} {stride} is smaller than the minimum {min}")]
    StrideTooSmall {
        what: &'static str,
        stride: u64,
        min: u64,
    },
    /// Block dimensions or size of zero.
    #[error("invalid block layout {block_width}x{block_height}, {bytes_per_block} bytes")]
    InvalidBlockLayout {
        block_width: u32,
        block_height: u32,
        bytes_per_block: u32,
    },
    /// A `virgl_formats` value with no known block layout.
    #[error("unknown or unsupported virgl format {0}")]
    UnknownFormat(u32),
    /// More iovec entries than this layer accepts.
    #[error("{0} iovecs is more than the supported maximum")]
    TooManyIovecs(usize),
    /// An iovec entry with a null base and a non-zero length.
    #[error("iovec {0} has a null base")]
    NullIovec(usize),
    /// The memory cannot be mapped or accessed by the CPU here.
    #[error("resource memory is not mappable: {0}")]
    NotMappable(&'static str),
    /// Unmap of something that is not mapped.
    #[error("resource {0} is not mapped")]
    NotMapped(u32),
    /// The resource has no fd to export.
    #[error("resource {0} cannot be exported as an fd")]
    NotExportable(u32),
    /// The resource's memory is an opaque handle of context `ctx_id`; that context must export it.
    #[error("resource {res_id} is an opaque handle of context {ctx_id}; export it there")]
    OpaqueHandle { res_id: u32, ctx_id: u32 },
    /// The operation needs a blob resource.
    #[error("resource {0} is not a blob")]
    NotBlob(u32),
    /// The operation needs the blob to be MAPPABLE.
    #[error("blob resource {0} was not created MAPPABLE")]
    BlobNotMappable(u32),
    /// The resource has no cacheable map info.
    #[error("resource {0} has no map info")]
    NoMapInfo(u32),
    /// An fd type value outside the known ones.
    #[error("invalid fd type {0}")]
    InvalidFdType(u32),
    /// An fd whose file is smaller than the size it is said to back.
    #[error("fd of {actual} bytes cannot back {needed} bytes")]
    FdTooSmall { actual: u64, needed: u64 },
    /// No importer is registered for the storage type asked for, or the resource has no fd.
    #[error("resource {0} cannot be imported: {1}")]
    NotImportable(u32, &'static str),
    /// The backend's importer failed.
    #[error("import of resource {res_id} failed: {reason}")]
    ImportFailed { res_id: u32, reason: String },
    /// A host allocation of this many bytes failed.
    #[error("cannot allocate {0} bytes")]
    Allocation(u64),
    /// A system call failed.
    #[error("{op} failed: {errno}")]
    Os {
        op: &'static str,
        errno: nix::errno::Errno,
    },
}

/// Shorthand for results of this crate.
pub type ResourceResult<T> = Result<T, ResourceError>;
