//! Default per-context quotas, so a guest that asks for too much gets an error instead of
//! pushing the host out of memory.
//!
//! Every context (and context 0, the renderer-wide account of resources no context created, as
//! QEMU's `RESOURCE_CREATE_3D`) may own at most [`DEFAULT_MAX_RESOURCES`] resources and hold at
//! most the host's physical memory in resource storage, counted before the backend allocates it
//! (see `ResourceCreateArgs::host_bytes_estimate`): a request no host could satisfy is an error,
//! not an OOM kill. Not less by default: real clients legitimately keep gigabytes alive (piglit's
//! `streaming-texture-leak` holds ~3,000 4 MiB textures until its batch is flushed, since the
//! guest driver defers destruction), so a host that shares memory between guests should set a
//! lower budget. Upstream has no such limits.
//! An embedder can change them through the environment, since the C ABI has no parameter for
//! them:
//! - `VIRGL_RS_MAX_RESOURCES`: resources per context (`0`: unlimited);
//! - `VIRGL_RS_MAX_HOST_BYTES`: bytes of host storage per context (`0`: unlimited).

use virgl_resource::Quota;

/// Resources one context may own unless `VIRGL_RS_MAX_RESOURCES` says otherwise.
pub const DEFAULT_MAX_RESOURCES: u32 = 1 << 18;

/// The quota every context gets, from the environment or the defaults.
pub fn default_quota() -> Quota {
    let from_env = |name: &str| -> Option<u64> {
        let value = std::env::var(name).ok()?;
        match value.trim().parse::<u64>() {
            Ok(v) => Some(v),
            Err(_) => {
                tracing::warn!("ignoring {name}={value:?}: not a number");
                None
            }
        }
    };
    let max_resources = match from_env("VIRGL_RS_MAX_RESOURCES") {
        Some(0) => None,
        Some(n) => Some(u32::try_from(n).unwrap_or(u32::MAX)),
        None => Some(DEFAULT_MAX_RESOURCES),
    };
    let max_host_bytes = match from_env("VIRGL_RS_MAX_HOST_BYTES") {
        Some(0) => None,
        Some(n) => Some(n),
        None => physical_memory(),
    };
    Quota {
        max_resources,
        max_host_bytes,
    }
}

/// The host's physical memory in bytes, if the system says.
fn physical_memory() -> Option<u64> {
    // SAFETY: sysconf only reads system configuration; -1 (unknown) fails the conversions below.
    let (pages, page_size) = unsafe {
        (
            libc::sysconf(libc::_SC_PHYS_PAGES),
            libc::sysconf(libc::_SC_PAGESIZE),
        )
    };
    u64::try_from(pages)
        .ok()?
        .checked_mul(u64::try_from(page_size).ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_bound_count_and_memory() {
        // The test process does not set the variables.
        let quota = default_quota();
        assert_eq!(quota.max_resources, Some(DEFAULT_MAX_RESOURCES));
        assert_eq!(quota.max_host_bytes, physical_memory());
        assert!(quota.max_host_bytes.is_some());
    }
}
