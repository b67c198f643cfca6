//! Resource bind flags: `VIRGL_BIND_*` (command stream, vtest, `virgl_renderer_resource_create`)
//! and the legacy `VIRGL_RES_BIND_*` of `virglrenderer.h`.
//!
//! These are plain bit sets. Which combinations a backend accepts is the backend's decision;
//! [`VirglBind::from_guest`] only rejects bits upstream never defined.

use bitflags::bitflags;

use crate::ProtocolError;

bitflags! {
    /// `VIRGL_BIND_*` from `virgl_hw.h` (28 names; `SHARED_SUBFLAGS` and `MINIGBM_PROTECTED` are
    /// masks over the minigbm bits).
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
    pub struct VirglBind: u32 {
        /// Depth/stencil attachment.
        const DEPTH_STENCIL = 1 << 0;
        /// Color attachment.
        const RENDER_TARGET = 1 << 1;
        /// Sampled texture.
        const SAMPLER_VIEW = 1 << 3;
        /// Vertex buffer.
        const VERTEX_BUFFER = 1 << 4;
        /// Index buffer.
        const INDEX_BUFFER = 1 << 5;
        /// Uniform buffer.
        const CONSTANT_BUFFER = 1 << 6;
        /// Presentable surface.
        const DISPLAY_TARGET = 1 << 7;
        /// Indirect draw/dispatch arguments.
        const COMMAND_ARGS = 1 << 8;
        /// Transform feedback target.
        const STREAM_OUTPUT = 1 << 11;
        /// Shader storage buffer.
        const SHADER_BUFFER = 1 << 14;
        /// Query result buffer.
        const QUERY_BUFFER = 1 << 15;
        /// Cursor image.
        const CURSOR = 1 << 16;
        /// Driver-specific.
        const CUSTOM = 1 << 17;
        /// Scanout.
        const SCANOUT = 1 << 18;
        /// Backed by guest storage and only read by the host.
        const STAGING = 1 << 19;
        /// Shareable across processes (dma-buf).
        const SHARED = 1 << 20;
        /// Prefer the emulated BGRA path (upstream marks this non-functional).
        const PREFER_EMULATED_BGRA = 1 << 21;
        /// Linear (untiled) storage.
        const LINEAR = 1 << 22;
        /// Mask of the minigbm sub-flags below.
        const SHARED_SUBFLAGS = 0xff << 24;
        /// minigbm: camera writes.
        const MINIGBM_CAMERA_WRITE = 1 << 24;
        /// minigbm: camera reads.
        const MINIGBM_CAMERA_READ = 1 << 25;
        /// minigbm: hardware video decoder.
        const MINIGBM_HW_VIDEO_DECODER = 1 << 26;
        /// minigbm: hardware video encoder.
        const MINIGBM_HW_VIDEO_ENCODER = 1 << 27;
        /// minigbm: CPU reads often.
        const MINIGBM_SW_READ_OFTEN = 1 << 28;
        /// minigbm: CPU reads rarely.
        const MINIGBM_SW_READ_RARELY = 1 << 29;
        /// minigbm: CPU writes often.
        const MINIGBM_SW_WRITE_OFTEN = 1 << 30;
        /// minigbm: CPU writes rarely.
        const MINIGBM_SW_WRITE_RARELY = 1 << 31;
        /// minigbm: protected content; all four `SW_*` bits set, so mutually exclusive with them.
        const MINIGBM_PROTECTED = 0xf << 28;
    }
}

impl VirglBind {
    /// Bind flags received from the guest: bits upstream never defined (2, 9, 10, 12, 13, 23)
    /// are rejected.
    pub fn from_guest(raw: u32) -> Result<Self, ProtocolError> {
        Self::from_bits(raw).ok_or(ProtocolError::InvalidValue {
            what: "VIRGL_BIND",
            value: u64::from(raw),
        })
    }

    /// Whether the resource is a buffer rather than a texture by its binds alone.
    pub fn is_buffer_only(self) -> bool {
        let buffer = Self::VERTEX_BUFFER
            | Self::INDEX_BUFFER
            | Self::CONSTANT_BUFFER
            | Self::STREAM_OUTPUT
            | Self::SHADER_BUFFER
            | Self::QUERY_BUFFER
            | Self::COMMAND_ARGS;
        !self.is_empty() && buffer.contains(self & !(Self::STAGING | Self::SHARED | Self::LINEAR))
    }
}

bitflags! {
    /// Legacy `VIRGL_RES_BIND_*` from `virglrenderer.h`, as used by
    /// `virgl_renderer_resource_create_args.bind`. Values coincide with [`VirglBind`].
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    pub struct ResBind: u32 {
        /// Depth/stencil attachment.
        const DEPTH_STENCIL = 1 << 0;
        /// Color attachment.
        const RENDER_TARGET = 1 << 1;
        /// Sampled texture.
        const SAMPLER_VIEW = 1 << 3;
        /// Vertex buffer.
        const VERTEX_BUFFER = 1 << 4;
        /// Index buffer.
        const INDEX_BUFFER = 1 << 5;
        /// Uniform buffer.
        const CONSTANT_BUFFER = 1 << 6;
        /// Transform feedback target.
        const STREAM_OUTPUT = 1 << 11;
        /// Cursor image.
        const CURSOR = 1 << 16;
        /// Driver-specific.
        const CUSTOM = 1 << 17;
        /// Scanout.
        const SCANOUT = 1 << 18;
        /// Shareable.
        const SHARED = 1 << 20;
    }
}

impl From<ResBind> for VirglBind {
    fn from(b: ResBind) -> Self {
        // Every ResBind bit has the same meaning and value in VirglBind.
        VirglBind::from_bits_truncate(b.bits())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twenty_eight_names_with_upstream_values() {
        assert_eq!(<VirglBind as bitflags::Flags>::FLAGS.len(), 28);
        assert_eq!(VirglBind::SAMPLER_VIEW.bits(), 8);
        assert_eq!(VirglBind::STREAM_OUTPUT.bits(), 0x800);
        assert_eq!(VirglBind::SHARED.bits(), 0x10_0000);
        assert_eq!(VirglBind::LINEAR.bits(), 0x40_0000);
        assert_eq!(VirglBind::SHARED_SUBFLAGS.bits(), 0xff00_0000);
        assert_eq!(VirglBind::MINIGBM_PROTECTED.bits(), 0xf000_0000);
        assert_eq!(VirglBind::all().bits(), 0xff7f_c9fb);
    }

    #[test]
    fn guest_bits_are_checked() {
        assert_eq!(
            VirglBind::from_guest(0x0a),
            Ok(VirglBind::RENDER_TARGET | VirglBind::SAMPLER_VIEW)
        );
        assert!(VirglBind::from_guest(1 << 2).is_err());
        assert!(VirglBind::from_guest(1 << 23).is_err());
        assert!(VirglBind::from_guest(0xff00_0000).is_ok());
    }

    #[test]
    fn legacy_bits_match() {
        for (name, flag) in ResBind::all().iter_names() {
            let v = VirglBind::from_name(name).expect(name);
            assert_eq!(v.bits(), flag.bits(), "{name}");
        }
        assert_eq!(ResBind::all().iter_names().count(), 11);
        assert_eq!(VirglBind::from(ResBind::SCANOUT), VirglBind::SCANOUT);
    }

    #[test]
    fn buffer_only() {
        assert!(VirglBind::VERTEX_BUFFER.is_buffer_only());
        assert!((VirglBind::SHADER_BUFFER | VirglBind::STAGING).is_buffer_only());
        assert!(!(VirglBind::VERTEX_BUFFER | VirglBind::SAMPLER_VIEW).is_buffer_only());
        assert!(!VirglBind::empty().is_buffer_only());
    }
}
