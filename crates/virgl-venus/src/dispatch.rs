//! Executing decoded Venus commands on the host Vulkan driver (through ash).
//!
//! Hand-written handlers: the instance and physical-device commands (ids of physical devices,
//! extension filtering, version caps), device creation and queues, device memory allocation,
//! and the reply-stream commands. Every other generated command goes through the generic path
//! ([`generic`]): decoded, handles translated, the host driver's entry point called. Commands
//! without a decoder fail with [`VenusError::UnsupportedCommand`], which makes the context
//! fatal (as upstream does for commands without a handler) rather than pretending to succeed.

mod generic;
mod images;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use ash::vk::{self, Handle};

use crate::generated::commands::{self as c, cmd};
use crate::generated::extensions::EXTENSIONS;
use crate::objects::{object_type as ot, Objects};
use crate::shm::Shm;
use crate::wire::{Arena, Cx, Reader, Writer, DEFAULT_ARENA_BUDGET};
use crate::VenusError;

/// The highest API version we serve (the protocol's vk.xml is 1.4; upstream caps at 1.4).
pub const MAX_API_VERSION: u32 = vk::make_api_version(0, 1, 4, 0);

/// `VK_COMMAND_GENERATE_REPLY_BIT_EXT`.
pub const GENERATE_REPLY: u32 = 1;

/// Protocol extensions we do not serve although the protocol has them: their commands carry
/// host pointers or data we cannot decode (see `generated::commands::SKIPPED`) or need host
/// features (sync fd export) we do not implement.
pub const WITHHELD_EXTENSIONS: &[&str] = &[
    "VK_KHR_acceleration_structure",
    "VK_KHR_ray_tracing_pipeline",
    "VK_KHR_ray_query",
    "VK_KHR_ray_tracing_maintenance1",
    "VK_KHR_ray_tracing_position_fetch",
    "VK_KHR_deferred_host_operations",
    "VK_EXT_host_image_copy",
    "VK_KHR_external_fence_fd",
    "VK_KHR_external_semaphore_fd",
    "VK_KHR_push_descriptor",
    "VK_KHR_descriptor_update_template",
];

/// Whether we advertise a protocol extension.
pub fn serves_extension(name: &str) -> Option<(u32, u32)> {
    if WITHHELD_EXTENSIONS.contains(&name) {
        return None;
    }
    EXTENSIONS
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|&(_, number, spec)| (number, spec))
}

/// Where replies go (vkSetReplyCommandStreamMESA).
#[derive(Debug)]
struct ReplyStream {
    shm: Arc<Shm>,
    offset: u64,
    size: u64,
    pos: u64,
}

/// Host instance state.
struct InstanceState {
    id: u64,
    instance: ash::Instance,
    physical_devices: Vec<vk::PhysicalDevice>,
}

/// Everything commands act on; shared by a context and its ring threads (behind a mutex).
pub struct State {
    entry: Arc<ash::Entry>,
    pub(crate) shm: HashMap<u32, Arc<Shm>>,
    /// dma-buf / OPAQUE_FD resources attached to the context (dups of their fds), for
    /// VkImportMemoryResourceInfoMESA; SHM resources are in `shm`.
    pub(crate) resource_fds: HashMap<u32, ResourceFd>,
    objects: Objects,
    instance: Option<InstanceState>,
    reply: Option<ReplyStream>,
    /// Devices by guest id.
    devices: HashMap<u64, ash::Device>,
    /// Device children by guest id.
    children: HashMap<u64, generic::Child>,
    child_seq: u64,
    /// Device memory by guest id.
    memories: HashMap<u64, generic::Memory>,
    /// Host entry points by (device guest id or 0 for the instance, command type).
    entry_points: HashMap<(u64, u32), unsafe extern "system" fn()>,
    /// The physical device of each device.
    device_physical: HashMap<u64, vk::PhysicalDevice>,
    /// Devices created with VK_KHR_external_memory_fd (their memory can become blobs).
    memory_fd_devices: HashSet<u64>,
    /// Devices created with VK_EXT_external_memory_host (memory can be our memfds).
    host_memory_devices: HashSet<u64>,
    /// Queues by guest id: (host queue, owning device id).
    queues: HashMap<u64, (vk::Queue, u64)>,
    /// Per physical device: the extensions we expose.
    device_extensions: HashMap<u64, Vec<vk::ExtensionProperties>>,
    in_execute_streams: bool,
    /// Images with a layout importers can be told, by guest id ([`images`]).
    images: HashMap<u64, images::ImageInfo>,
    /// The image bound to each device memory (by memory id), for its blobs.
    memory_images: HashMap<u64, virgl_resource::ImageDesc>,
    /// Blob resources made of each device memory, for binds after the blob.
    memory_blobs: HashMap<u64, Vec<u32>>,
    /// Where descriptions of blobs made before the bind go: (this context's id, the queue).
    bound: Option<(u32, Arc<crate::images::BoundImages>)>,
}

/// A dma-buf / OPAQUE_FD resource attached to the context.
#[derive(Clone)]
pub(crate) struct ResourceFd {
    pub fd_type: virgl_resource::FdType,
    pub fd: Arc<std::os::fd::OwnedFd>,
    /// Bytes of memory behind the fd.
    pub size: u64,
    /// What an OPAQUE_FD's exporter says importers must match.
    pub vulkan_info: Option<virgl_resource::VulkanInfo>,
}

impl Drop for State {
    fn drop(&mut self) {
        self.destroy_instance();
    }
}

fn out_ptr<T, U>(o: &mut Option<&mut T>) -> *mut U {
    o.as_deref_mut()
        .map_or(std::ptr::null_mut(), |p| std::ptr::from_mut(p).cast())
}

fn out_slice<T, U>(o: &mut Option<&mut [T]>) -> *mut U {
    o.as_deref_mut()
        .map_or(std::ptr::null_mut(), |p| p.as_mut_ptr().cast())
}

fn in_ptr<T, U>(o: Option<&T>) -> *const U {
    o.map_or(std::ptr::null(), |p| std::ptr::from_ref(p).cast())
}

/// The count/array protocol of vkEnumerate*: fills `out` from `all`, sets `count`.
fn enumerate_into<T: Copy>(all: &[T], count: &mut Option<&mut u32>, out: Option<&mut [T]>) -> i32 {
    let Some(count) = count.as_deref_mut() else {
        return vk::Result::ERROR_INITIALIZATION_FAILED.as_raw();
    };
    match out {
        None => {
            *count = all.len() as u32;
            vk::Result::SUCCESS.as_raw()
        }
        Some(out) => {
            let n = (*count as usize).min(out.len()).min(all.len());
            out[..n].copy_from_slice(&all[..n]);
            *count = n as u32;
            if n < all.len() {
                vk::Result::INCOMPLETE.as_raw()
            } else {
                vk::Result::SUCCESS.as_raw()
            }
        }
    }
}

impl State {
    pub fn new(entry: Arc<ash::Entry>) -> Self {
        Self {
            entry,
            shm: HashMap::new(),
            resource_fds: HashMap::new(),
            objects: Objects::default(),
            instance: None,
            reply: None,
            devices: HashMap::new(),
            children: HashMap::new(),
            child_seq: 0,
            memories: HashMap::new(),
            entry_points: HashMap::new(),
            device_physical: HashMap::new(),
            memory_fd_devices: HashSet::new(),
            host_memory_devices: HashSet::new(),
            queues: HashMap::new(),
            device_extensions: HashMap::new(),
            in_execute_streams: false,
            images: HashMap::new(),
            memory_images: HashMap::new(),
            memory_blobs: HashMap::new(),
            bound: None,
        }
    }

    fn destroy_device(&mut self, id: u64) {
        let mut children: Vec<(u64, u64)> = self
            .children
            .iter()
            .filter(|(_, c)| c.device == id)
            .map(|(&c, child)| (child.seq, c))
            .collect();
        // Newest first: what was made from an object goes before it.
        children.sort_unstable_by(|a, b| b.cmp(a));
        for (_, c) in children {
            self.destroy_child(c);
        }
        self.entry_points.retain(|&(dev, _), _| dev != id);
        self.device_physical.remove(&id);
        self.memory_fd_devices.remove(&id);
        self.host_memory_devices.remove(&id);
        if let Some(device) = self.devices.remove(&id) {
            // SAFETY: the device is ours; waiting first so no queue work is in flight, and no
            // child objects are created by this backend besides queues (owned by the device).
            unsafe {
                let _ = device.device_wait_idle();
                device.destroy_device(None);
            }
            self.objects.remove(id);
            let queues: Vec<u64> = self
                .queues
                .iter()
                .filter(|(_, (_, dev))| *dev == id)
                .map(|(q, _)| *q)
                .collect();
            for q in queues {
                self.queues.remove(&q);
                self.objects.remove(q);
            }
        }
    }

    fn destroy_instance(&mut self) {
        let devices: Vec<u64> = self.devices.keys().copied().collect();
        for id in devices {
            self.destroy_device(id);
        }
        if let Some(inst) = self.instance.take() {
            // SAFETY: the instance is ours, created by vkCreateInstance below; its devices were
            // destroyed just above, so nothing outlives it.
            unsafe { inst.instance.destroy_instance(None) };
            self.objects.remove(inst.id);
            self.objects.remove_type(ot::PHYSICAL_DEVICE);
            self.device_extensions.clear();
        }
    }

    fn instance(&self) -> Result<&InstanceState, VenusError> {
        self.instance
            .as_ref()
            .ok_or_else(|| VenusError::Invalid("no instance".into()))
    }

    fn physical_device(&self, id: u64) -> Result<vk::PhysicalDevice, VenusError> {
        Ok(vk::PhysicalDevice::from_raw(
            self.objects.get(ot::PHYSICAL_DEVICE, id)?,
        ))
    }

    fn write_reply(&mut self, bytes: &[u8]) -> Result<(), VenusError> {
        let Some(reply) = self.reply.as_mut() else {
            return Err(VenusError::Invalid(
                "reply requested without a reply stream".into(),
            ));
        };
        let end = reply.pos + bytes.len() as u64;
        if end > reply.size {
            return Err(VenusError::Invalid("reply stream overflow".into()));
        }
        reply.shm.write(reply.offset + reply.pos, bytes)?;
        reply.pos = end;
        Ok(())
    }

    /// Executes every command in `bytes` (a context stream or an indirect stream).
    pub fn execute_stream(&mut self, bytes: &[u8]) -> Result<(), VenusError> {
        let mut r = Reader::new(bytes);
        while r.remaining() > 0 {
            self.execute_one(&mut r)?;
        }
        Ok(())
    }

    /// Decodes and executes one command.
    pub fn execute_one(&mut self, r: &mut Reader<'_>) -> Result<(), VenusError> {
        let ty = r.u32()?;
        let flags = r.u32()?;
        let name = c::command_name(ty).unwrap_or("unknown");
        tracing::trace!(ty, name, flags, "venus command");
        let arena = Arena::new(DEFAULT_ARENA_BUDGET);
        let mut w = Writer::new();
        self.dispatch(ty, r, &arena, &mut w)?;
        if flags & GENERATE_REPLY != 0 {
            self.write_reply(w.as_bytes())?;
        }
        Ok(())
    }

    fn dispatch(
        &mut self,
        ty: u32,
        r: &mut Reader<'_>,
        arena: &Arena,
        w: &mut Writer,
    ) -> Result<(), VenusError> {
        macro_rules! decode {
            ($f:ident) => {{
                let cx = Cx {
                    arena,
                    handles: &self.objects,
                };
                c::$f(r, &cx)?
            }};
        }
        macro_rules! reply {
            ($args:expr) => {{
                // SAFETY: the arguments were built by the generated decoder in `arena` and
                // filled in by the host driver, which is what `encode_reply` requires.
                unsafe { $args.encode_reply(w, &self.objects) }
            }};
        }
        match ty {
            178 => self.set_reply_stream(r),
            179 => {
                let pos = r.u64()?;
                let reply = self
                    .reply
                    .as_mut()
                    .ok_or_else(|| VenusError::Invalid("seek without a reply stream".into()))?;
                reply.pos = pos.min(reply.size);
                Ok(())
            }
            180 => self.execute_streams(r),
            cmd::vkGetMemoryResourcePropertiesMESA => self.memory_resource_properties(r, w),
            cmd::vkEnumerateInstanceVersion => {
                let mut a = decode!(decode_vkEnumerateInstanceVersion);
                let host = host_instance_version(&self.entry);
                if let Some(v) = a.pApiVersion.as_deref_mut() {
                    *v = host.min(MAX_API_VERSION);
                }
                a.ret = 0;
                reply!(a);
                Ok(())
            }
            cmd::vkEnumerateInstanceExtensionProperties => {
                let mut a = decode!(decode_vkEnumerateInstanceExtensionProperties);
                let props = [
                    c_ext("VK_EXT_command_serialization", 1),
                    c_ext("VK_MESA_venus_protocol", 3),
                ];
                if a.pLayerName.is_some() {
                    a.ret = vk::Result::ERROR_LAYER_NOT_PRESENT.as_raw();
                } else {
                    a.ret =
                        enumerate_into(&props, &mut a.pPropertyCount, a.pProperties.as_deref_mut());
                }
                reply!(a);
                Ok(())
            }
            cmd::vkEnumerateInstanceLayerProperties => {
                let mut a = decode!(decode_vkEnumerateInstanceLayerProperties);
                a.ret = enumerate_into(&[], &mut a.pPropertyCount, a.pProperties.as_deref_mut());
                reply!(a);
                Ok(())
            }
            cmd::vkCreateInstance => {
                let mut a = decode!(decode_vkCreateInstance);
                a.ret = self.create_instance(&a)?;
                reply!(a);
                Ok(())
            }
            cmd::vkDestroyInstance => {
                let a = decode!(decode_vkDestroyInstance);
                if self.instance.as_ref().is_some_and(|i| i.id == a.instance) {
                    self.destroy_instance();
                }
                Ok(())
            }
            cmd::vkEnumeratePhysicalDevices => {
                let mut a = decode!(decode_vkEnumeratePhysicalDevices);
                let inst = self.instance()?;
                if inst.id != a.instance {
                    return Err(VenusError::UnknownObject {
                        object_type: ot::INSTANCE,
                        id: a.instance,
                    });
                }
                let all = inst.physical_devices.clone();
                let ids: Vec<u64> = a
                    .pPhysicalDevices
                    .as_deref()
                    .map(<[u64]>::to_vec)
                    .unwrap_or_default();
                let mut hosts: Vec<u64> = all.iter().map(|p| p.as_raw()).collect();
                a.ret = enumerate_into(
                    &hosts.clone(),
                    &mut a.pPhysicalDeviceCount,
                    a.pPhysicalDevices.as_deref_mut(),
                );
                if a.pPhysicalDevices.is_some() {
                    let n = a.pPhysicalDeviceCount.as_deref().copied().unwrap_or(0) as usize;
                    hosts.truncate(n);
                    for (id, host) in ids.iter().zip(&hosts) {
                        match self.objects.guest_id(ot::PHYSICAL_DEVICE, *host) {
                            Some(existing) if existing == *id => {}
                            Some(_) => return Err(VenusError::InvalidObjectId(*id)),
                            None => self.objects.insert(*id, ot::PHYSICAL_DEVICE, *host)?,
                        }
                    }
                    // The reply echoes the guest's ids.
                    if let Some(out) = a.pPhysicalDevices.as_deref_mut() {
                        for (o, id) in out.iter_mut().zip(&ids) {
                            *o = *id;
                        }
                    }
                }
                reply!(a);
                Ok(())
            }
            cmd::vkEnumeratePhysicalDeviceGroups => {
                let mut a = decode!(decode_vkEnumeratePhysicalDeviceGroups);
                let inst = self.instance()?;
                // SAFETY: valid instance; count/array pointers come from the decoder (array
                // length equals the count, checked by the decoder).
                a.ret = unsafe {
                    (inst.instance.fp_v1_1().enumerate_physical_device_groups)(
                        inst.instance.handle(),
                        out_ptr(&mut a.pPhysicalDeviceGroupCount),
                        out_slice(&mut a.pPhysicalDeviceGroupProperties),
                    )
                }
                .as_raw();
                reply!(a);
                Ok(())
            }
            cmd::vkEnumerateDeviceExtensionProperties => {
                let mut a = decode!(decode_vkEnumerateDeviceExtensionProperties);
                let pd = self.physical_device(a.physicalDevice)?;
                let exts = self.device_extensions(pd)?;
                if a.pLayerName.is_some() {
                    a.ret = vk::Result::ERROR_LAYER_NOT_PRESENT.as_raw();
                } else {
                    let all: Vec<crate::generated::types::VkExtensionProperties> = exts
                        .iter()
                        .map(|e| {
                            // SAFETY: both are the C layout of VkExtensionProperties.
                            unsafe { std::mem::transmute::<vk::ExtensionProperties, _>(*e) }
                        })
                        .collect();
                    a.ret =
                        enumerate_into(&all, &mut a.pPropertyCount, a.pProperties.as_deref_mut());
                }
                reply!(a);
                Ok(())
            }
            cmd::vkEnumerateDeviceLayerProperties => {
                let mut a = decode!(decode_vkEnumerateDeviceLayerProperties);
                self.physical_device(a.physicalDevice)?;
                a.ret = enumerate_into(&[], &mut a.pPropertyCount, a.pProperties.as_deref_mut());
                reply!(a);
                Ok(())
            }
            cmd::vkGetPhysicalDeviceProperties => {
                let mut a = decode!(decode_vkGetPhysicalDeviceProperties);
                let pd = self.physical_device(a.physicalDevice)?;
                let i = &self.instance()?.instance;
                // SAFETY: valid physical device; the output struct is ours.
                unsafe {
                    (i.fp_v1_0().get_physical_device_properties)(pd, out_ptr(&mut a.pProperties))
                };
                if let Some(p) = a.pProperties.as_deref_mut() {
                    p.apiVersion = p.apiVersion.min(MAX_API_VERSION);
                }
                reply!(a);
                Ok(())
            }
            cmd::vkGetPhysicalDeviceProperties2 => {
                let mut a = decode!(decode_vkGetPhysicalDeviceProperties2);
                let pd = self.physical_device(a.physicalDevice)?;
                let i = &self.instance()?.instance;
                // SAFETY: valid physical device; the output struct and its chain (only sTypes
                // the protocol accepts for this query) are ours.
                unsafe {
                    (i.fp_v1_1().get_physical_device_properties2)(pd, out_ptr(&mut a.pProperties))
                };
                if let Some(p) = a.pProperties.as_deref_mut() {
                    p.properties.apiVersion = p.properties.apiVersion.min(MAX_API_VERSION);
                }
                reply!(a);
                Ok(())
            }
            cmd::vkGetPhysicalDeviceFeatures => {
                let mut a = decode!(decode_vkGetPhysicalDeviceFeatures);
                let pd = self.physical_device(a.physicalDevice)?;
                let i = &self.instance()?.instance;
                // SAFETY: as above.
                unsafe {
                    (i.fp_v1_0().get_physical_device_features)(pd, out_ptr(&mut a.pFeatures))
                };
                reply!(a);
                Ok(())
            }
            cmd::vkGetPhysicalDeviceFeatures2 => {
                let mut a = decode!(decode_vkGetPhysicalDeviceFeatures2);
                let pd = self.physical_device(a.physicalDevice)?;
                let i = &self.instance()?.instance;
                // SAFETY: as above.
                unsafe {
                    (i.fp_v1_1().get_physical_device_features2)(pd, out_ptr(&mut a.pFeatures))
                };
                reply!(a);
                Ok(())
            }
            cmd::vkGetPhysicalDeviceFormatProperties => {
                let mut a = decode!(decode_vkGetPhysicalDeviceFormatProperties);
                let pd = self.physical_device(a.physicalDevice)?;
                let i = &self.instance()?.instance;
                // SAFETY: as above.
                unsafe {
                    (i.fp_v1_0().get_physical_device_format_properties)(
                        pd,
                        vk::Format::from_raw(a.format),
                        out_ptr(&mut a.pFormatProperties),
                    )
                };
                reply!(a);
                Ok(())
            }
            cmd::vkGetPhysicalDeviceFormatProperties2 => {
                let mut a = decode!(decode_vkGetPhysicalDeviceFormatProperties2);
                let pd = self.physical_device(a.physicalDevice)?;
                let i = &self.instance()?.instance;
                // SAFETY: as above.
                unsafe {
                    (i.fp_v1_1().get_physical_device_format_properties2)(
                        pd,
                        vk::Format::from_raw(a.format),
                        out_ptr(&mut a.pFormatProperties),
                    )
                };
                reply!(a);
                Ok(())
            }
            cmd::vkGetPhysicalDeviceImageFormatProperties => {
                let mut a = decode!(decode_vkGetPhysicalDeviceImageFormatProperties);
                let pd = self.physical_device(a.physicalDevice)?;
                let i = &self.instance()?.instance;
                // SAFETY: as above.
                a.ret = unsafe {
                    (i.fp_v1_0().get_physical_device_image_format_properties)(
                        pd,
                        vk::Format::from_raw(a.format),
                        vk::ImageType::from_raw(a.r#type),
                        vk::ImageTiling::from_raw(a.tiling),
                        vk::ImageUsageFlags::from_raw(a.usage),
                        vk::ImageCreateFlags::from_raw(a.flags),
                        out_ptr(&mut a.pImageFormatProperties),
                    )
                }
                .as_raw();
                reply!(a);
                Ok(())
            }
            cmd::vkGetPhysicalDeviceImageFormatProperties2 => {
                let mut a = decode!(decode_vkGetPhysicalDeviceImageFormatProperties2);
                let pd = self.physical_device(a.physicalDevice)?;
                let i = &self.instance()?.instance;
                // SAFETY: as above; the input struct and chain were decoded into the arena.
                a.ret = unsafe {
                    (i.fp_v1_1().get_physical_device_image_format_properties2)(
                        pd,
                        in_ptr(a.pImageFormatInfo),
                        out_ptr(&mut a.pImageFormatProperties),
                    )
                }
                .as_raw();
                reply!(a);
                Ok(())
            }
            cmd::vkGetPhysicalDeviceSparseImageFormatProperties2 => {
                let mut a = decode!(decode_vkGetPhysicalDeviceSparseImageFormatProperties2);
                let pd = self.physical_device(a.physicalDevice)?;
                let i = &self.instance()?.instance;
                // SAFETY: as above.
                unsafe {
                    (i.fp_v1_1()
                        .get_physical_device_sparse_image_format_properties2)(
                        pd,
                        in_ptr(a.pFormatInfo),
                        out_ptr(&mut a.pPropertyCount),
                        out_slice(&mut a.pProperties),
                    )
                };
                reply!(a);
                Ok(())
            }
            cmd::vkGetPhysicalDeviceQueueFamilyProperties => {
                let mut a = decode!(decode_vkGetPhysicalDeviceQueueFamilyProperties);
                let pd = self.physical_device(a.physicalDevice)?;
                let i = &self.instance()?.instance;
                // SAFETY: as above.
                unsafe {
                    (i.fp_v1_0().get_physical_device_queue_family_properties)(
                        pd,
                        out_ptr(&mut a.pQueueFamilyPropertyCount),
                        out_slice(&mut a.pQueueFamilyProperties),
                    )
                };
                reply!(a);
                Ok(())
            }
            cmd::vkGetPhysicalDeviceQueueFamilyProperties2 => {
                let mut a = decode!(decode_vkGetPhysicalDeviceQueueFamilyProperties2);
                let pd = self.physical_device(a.physicalDevice)?;
                let i = &self.instance()?.instance;
                // SAFETY: as above.
                unsafe {
                    (i.fp_v1_1().get_physical_device_queue_family_properties2)(
                        pd,
                        out_ptr(&mut a.pQueueFamilyPropertyCount),
                        out_slice(&mut a.pQueueFamilyProperties),
                    )
                };
                reply!(a);
                Ok(())
            }
            cmd::vkGetPhysicalDeviceMemoryProperties => {
                let mut a = decode!(decode_vkGetPhysicalDeviceMemoryProperties);
                let pd = self.physical_device(a.physicalDevice)?;
                let i = &self.instance()?.instance;
                // SAFETY: as above.
                unsafe {
                    (i.fp_v1_0().get_physical_device_memory_properties)(
                        pd,
                        out_ptr(&mut a.pMemoryProperties),
                    )
                };
                reply!(a);
                Ok(())
            }
            cmd::vkGetPhysicalDeviceMemoryProperties2 => {
                let mut a = decode!(decode_vkGetPhysicalDeviceMemoryProperties2);
                let pd = self.physical_device(a.physicalDevice)?;
                let i = &self.instance()?.instance;
                // SAFETY: as above.
                unsafe {
                    (i.fp_v1_1().get_physical_device_memory_properties2)(
                        pd,
                        out_ptr(&mut a.pMemoryProperties),
                    )
                };
                reply!(a);
                Ok(())
            }
            cmd::vkGetPhysicalDeviceExternalBufferProperties => {
                let mut a = decode!(decode_vkGetPhysicalDeviceExternalBufferProperties);
                let pd = self.physical_device(a.physicalDevice)?;
                let i = &self.instance()?.instance;
                // SAFETY: as above.
                unsafe {
                    (i.fp_v1_1().get_physical_device_external_buffer_properties)(
                        pd,
                        in_ptr(a.pExternalBufferInfo),
                        out_ptr(&mut a.pExternalBufferProperties),
                    )
                };
                reply!(a);
                Ok(())
            }
            cmd::vkGetPhysicalDeviceExternalFenceProperties => {
                let mut a = decode!(decode_vkGetPhysicalDeviceExternalFenceProperties);
                let pd = self.physical_device(a.physicalDevice)?;
                let i = &self.instance()?.instance;
                // SAFETY: as above.
                unsafe {
                    (i.fp_v1_1().get_physical_device_external_fence_properties)(
                        pd,
                        in_ptr(a.pExternalFenceInfo),
                        out_ptr(&mut a.pExternalFenceProperties),
                    )
                };
                reply!(a);
                Ok(())
            }
            cmd::vkGetPhysicalDeviceExternalSemaphoreProperties => {
                let mut a = decode!(decode_vkGetPhysicalDeviceExternalSemaphoreProperties);
                let pd = self.physical_device(a.physicalDevice)?;
                let i = &self.instance()?.instance;
                // SAFETY: as above.
                unsafe {
                    (i.fp_v1_1()
                        .get_physical_device_external_semaphore_properties)(
                        pd,
                        in_ptr(a.pExternalSemaphoreInfo),
                        out_ptr(&mut a.pExternalSemaphoreProperties),
                    )
                };
                reply!(a);
                Ok(())
            }
            cmd::vkGetPhysicalDeviceToolProperties => {
                let mut a = decode!(decode_vkGetPhysicalDeviceToolProperties);
                let pd = self.physical_device(a.physicalDevice)?;
                let i = &self.instance()?.instance;
                // SAFETY: as above.
                a.ret = unsafe {
                    (i.fp_v1_3().get_physical_device_tool_properties)(
                        pd,
                        out_ptr(&mut a.pToolCount),
                        out_slice(&mut a.pToolProperties),
                    )
                }
                .as_raw();
                reply!(a);
                Ok(())
            }
            cmd::vkGetImageMemoryRequirements => {
                let mut a = decode!(decode_vkGetImageMemoryRequirements);
                let image = self.objects.get(vk::ObjectType::IMAGE.as_raw(), a.image)?;
                let dev = self.device(a.device)?;
                // SAFETY: valid device and image; output struct is ours.
                unsafe {
                    (dev.fp_v1_0().get_image_memory_requirements)(
                        dev.handle(),
                        vk::Image::from_raw(image),
                        out_ptr(&mut a.pMemoryRequirements),
                    )
                };
                reply!(a);
                Ok(())
            }
            cmd::vkGetBufferMemoryRequirements => {
                let mut a = decode!(decode_vkGetBufferMemoryRequirements);
                let buffer = self
                    .objects
                    .get(vk::ObjectType::BUFFER.as_raw(), a.buffer)?;
                let dev = self.device(a.device)?;
                // SAFETY: as above.
                unsafe {
                    (dev.fp_v1_0().get_buffer_memory_requirements)(
                        dev.handle(),
                        vk::Buffer::from_raw(buffer),
                        out_ptr(&mut a.pMemoryRequirements),
                    )
                };
                reply!(a);
                Ok(())
            }
            cmd::vkGetImageSubresourceLayout => {
                let mut a = decode!(decode_vkGetImageSubresourceLayout);
                let image = self.objects.get(vk::ObjectType::IMAGE.as_raw(), a.image)?;
                let dev = self.device(a.device)?;
                // SAFETY: as above; the subresource was decoded into the arena.
                unsafe {
                    (dev.fp_v1_0().get_image_subresource_layout)(
                        dev.handle(),
                        vk::Image::from_raw(image),
                        in_ptr(a.pSubresource),
                        out_ptr(&mut a.pLayout),
                    )
                };
                reply!(a);
                Ok(())
            }
            cmd::vkGetImageMemoryRequirements2 => {
                let mut a = decode!(decode_vkGetImageMemoryRequirements2);
                let dev = self.device(a.device)?;
                // SAFETY: as above; the info's image handle was translated while decoding.
                unsafe {
                    (dev.fp_v1_1().get_image_memory_requirements2)(
                        dev.handle(),
                        in_ptr(a.pInfo),
                        out_ptr(&mut a.pMemoryRequirements),
                    )
                };
                reply!(a);
                Ok(())
            }
            cmd::vkGetBufferMemoryRequirements2 => {
                let mut a = decode!(decode_vkGetBufferMemoryRequirements2);
                let dev = self.device(a.device)?;
                // SAFETY: as above.
                unsafe {
                    (dev.fp_v1_1().get_buffer_memory_requirements2)(
                        dev.handle(),
                        in_ptr(a.pInfo),
                        out_ptr(&mut a.pMemoryRequirements),
                    )
                };
                reply!(a);
                Ok(())
            }
            cmd::vkGetDeviceImageMemoryRequirements => {
                let mut a = decode!(decode_vkGetDeviceImageMemoryRequirements);
                let dev = self.device(a.device)?;
                // SAFETY: as above.
                unsafe {
                    (dev.fp_v1_3().get_device_image_memory_requirements)(
                        dev.handle(),
                        in_ptr(a.pInfo),
                        out_ptr(&mut a.pMemoryRequirements),
                    )
                };
                reply!(a);
                Ok(())
            }
            cmd::vkGetDeviceBufferMemoryRequirements => {
                let mut a = decode!(decode_vkGetDeviceBufferMemoryRequirements);
                let dev = self.device(a.device)?;
                // SAFETY: as above.
                unsafe {
                    (dev.fp_v1_3().get_device_buffer_memory_requirements)(
                        dev.handle(),
                        in_ptr(a.pInfo),
                        out_ptr(&mut a.pMemoryRequirements),
                    )
                };
                reply!(a);
                Ok(())
            }
            cmd::vkCreateDevice => {
                let mut a = decode!(decode_vkCreateDevice);
                a.ret = self.create_device(&a)?;
                reply!(a);
                Ok(())
            }
            cmd::vkDestroyDevice => {
                let a = decode!(decode_vkDestroyDevice);
                if a.device != 0 {
                    self.objects.get(ot::DEVICE, a.device)?;
                    self.destroy_device(a.device);
                }
                Ok(())
            }
            cmd::vkGetDeviceQueue => {
                let a = decode!(decode_vkGetDeviceQueue);
                let device = self.device(a.device)?;
                // SAFETY: valid device; family/index are validated by the driver only in debug
                // layers, so check them against what the device was created with.
                let queue = unsafe { device.get_device_queue(a.queueFamilyIndex, a.queueIndex) };
                self.register_queue(a.device, queue, a.pQueue.as_deref().copied())?;
                reply!(a);
                Ok(())
            }
            cmd::vkGetDeviceQueue2 => {
                let a = decode!(decode_vkGetDeviceQueue2);
                let info = a.pQueueInfo.ok_or(VenusError::NullParam("pQueueInfo"))?;
                // VkDeviceQueueTimelineInfoMESA is for us (the guest's ring/timeline), not the
                // driver: pass only the core fields.
                let host_info = vk::DeviceQueueInfo2::default()
                    .flags(vk::DeviceQueueCreateFlags::from_raw(info.flags))
                    .queue_family_index(info.queueFamilyIndex)
                    .queue_index(info.queueIndex);
                let device = self.device(a.device)?;
                // SAFETY: valid device and info.
                let queue = unsafe { device.get_device_queue2(&host_info) };
                self.register_queue(a.device, queue, a.pQueue.as_deref().copied())?;
                reply!(a);
                Ok(())
            }
            cmd::vkDeviceWaitIdle => {
                let mut a = decode!(decode_vkDeviceWaitIdle);
                let device = self.device(a.device)?;
                // SAFETY: valid device.
                a.ret = match unsafe { device.device_wait_idle() } {
                    Ok(()) => 0,
                    Err(e) => e.as_raw(),
                };
                reply!(a);
                Ok(())
            }
            cmd::vkQueueWaitIdle => {
                let mut a = decode!(decode_vkQueueWaitIdle);
                let &(queue, dev) = self.queues.get(&a.queue).ok_or(VenusError::UnknownObject {
                    object_type: ot::QUEUE,
                    id: a.queue,
                })?;
                let device = self.device(dev)?;
                // SAFETY: valid queue of a valid device.
                a.ret = match unsafe { device.queue_wait_idle(queue) } {
                    Ok(()) => 0,
                    Err(e) => e.as_raw(),
                };
                reply!(a);
                Ok(())
            }
            cmd::vkAllocateMemory => {
                let mut a = decode!(decode_vkAllocateMemory);
                self.allocate_memory(&mut a)?;
                reply!(a);
                Ok(())
            }
            _ => {
                let image_command = self.peek_image_command(ty, r, arena)?;
                if self.execute_generic(ty, r, arena, w)? {
                    if let Some(command) = image_command {
                        self.after_image_command(command);
                    }
                    Ok(())
                } else {
                    Err(VenusError::UnsupportedCommand(
                        ty,
                        c::command_name(ty).unwrap_or("unknown"),
                    ))
                }
            }
        }
    }

    fn create_instance(&mut self, a: &c::vkCreateInstance_args<'_>) -> Result<i32, VenusError> {
        if self.instance.is_some() {
            return Err(VenusError::Invalid("second vkCreateInstance".into()));
        }
        let info = a.pCreateInfo.ok_or(VenusError::NullParam("pCreateInfo"))?;
        if info.enabledLayerCount != 0 {
            return Ok(vk::Result::ERROR_LAYER_NOT_PRESENT.as_raw());
        }
        if info.enabledExtensionCount != 0 {
            return Ok(vk::Result::ERROR_EXTENSION_NOT_PRESENT.as_raw());
        }
        let id = a.pInstance.as_deref().copied().unwrap_or(0);
        if id == 0 {
            return Err(VenusError::InvalidObjectId(0));
        }
        // SAFETY: the guest's application info (if any) was decoded into the arena.
        let app_version = if info.pApplicationInfo.is_null() {
            vk::API_VERSION_1_0
        } else {
            // SAFETY: non-null pointer into the decode arena, a VkApplicationInfo.
            unsafe { (*info.pApplicationInfo).apiVersion }
        };
        let host_version = host_instance_version(&self.entry);
        if host_version < vk::API_VERSION_1_1 {
            return Ok(vk::Result::ERROR_INCOMPATIBLE_DRIVER.as_raw());
        }
        let api = app_version
            .max(vk::API_VERSION_1_1)
            .min(host_version)
            .min(MAX_API_VERSION);
        let app = vk::ApplicationInfo::default()
            .application_name(c"virgl-rs venus")
            .api_version(api);
        let create = vk::InstanceCreateInfo::default().application_info(&app);
        // SAFETY: valid create info; the instance is destroyed in `destroy_instance`.
        let instance = match unsafe { self.entry.create_instance(&create, None) } {
            Ok(i) => i,
            Err(e) => return Ok(e.as_raw()),
        };
        // SAFETY: valid instance.
        let physical_devices = unsafe { instance.enumerate_physical_devices() }
            .map_err(|e| VenusError::Host(format!("vkEnumeratePhysicalDevices: {e}")))?;
        self.objects
            .insert(id, ot::INSTANCE, instance.handle().as_raw())?;
        self.instance = Some(InstanceState {
            id,
            instance,
            physical_devices,
        });
        Ok(vk::Result::SUCCESS.as_raw())
    }

    fn check_new_id(&self, id: u64) -> Result<(), VenusError> {
        if id == 0 || self.objects.guest_id_exists(id) {
            return Err(VenusError::InvalidObjectId(id));
        }
        Ok(())
    }

    /// Destroys a device child object on the host (its device is going) and forgets it.
    fn destroy_child(&mut self, id: u64) {
        let Some(child) = self.children.remove(&id) else {
            return;
        };
        let Some(host) = self.objects.remove(id) else {
            return;
        };
        // Our memfd (if any) goes only after vkFreeMemory below.
        let _memory = self.memories.remove(&id);
        self.forget_image_records(id);
        let Some(dev) = self.devices.get(&child.device) else {
            return;
        };
        let ty = vk::ObjectType::from_raw(child.object_type);
        let name: &std::ffi::CStr = match ty {
            // Freed with their pool.
            vk::ObjectType::COMMAND_BUFFER | vk::ObjectType::DESCRIPTOR_SET => return,
            vk::ObjectType::DEVICE_MEMORY => c"vkFreeMemory",
            vk::ObjectType::FENCE => c"vkDestroyFence",
            vk::ObjectType::SEMAPHORE => c"vkDestroySemaphore",
            vk::ObjectType::EVENT => c"vkDestroyEvent",
            vk::ObjectType::QUERY_POOL => c"vkDestroyQueryPool",
            vk::ObjectType::BUFFER => c"vkDestroyBuffer",
            vk::ObjectType::BUFFER_VIEW => c"vkDestroyBufferView",
            vk::ObjectType::IMAGE => c"vkDestroyImage",
            vk::ObjectType::IMAGE_VIEW => c"vkDestroyImageView",
            vk::ObjectType::SHADER_MODULE => c"vkDestroyShaderModule",
            vk::ObjectType::PIPELINE_CACHE => c"vkDestroyPipelineCache",
            vk::ObjectType::PIPELINE_LAYOUT => c"vkDestroyPipelineLayout",
            vk::ObjectType::RENDER_PASS => c"vkDestroyRenderPass",
            vk::ObjectType::PIPELINE => c"vkDestroyPipeline",
            vk::ObjectType::DESCRIPTOR_SET_LAYOUT => c"vkDestroyDescriptorSetLayout",
            vk::ObjectType::SAMPLER => c"vkDestroySampler",
            vk::ObjectType::DESCRIPTOR_POOL => c"vkDestroyDescriptorPool",
            vk::ObjectType::FRAMEBUFFER => c"vkDestroyFramebuffer",
            vk::ObjectType::COMMAND_POOL => c"vkDestroyCommandPool",
            vk::ObjectType::SAMPLER_YCBCR_CONVERSION => c"vkDestroySamplerYcbcrConversion",
            vk::ObjectType::DESCRIPTOR_UPDATE_TEMPLATE => c"vkDestroyDescriptorUpdateTemplate",
            vk::ObjectType::PRIVATE_DATA_SLOT => c"vkDestroyPrivateDataSlot",
            other => {
                tracing::warn!(?other, "no destroy for object type");
                return;
            }
        };
        let Some(inst) = self.instance.as_ref() else {
            return;
        };
        // SAFETY: valid device, NUL-terminated name.
        let f =
            unsafe { (inst.instance.fp_v1_0().get_device_proc_addr)(dev.handle(), name.as_ptr()) };
        let Some(f) = f else {
            return;
        };
        type Destroy = unsafe extern "system" fn(vk::Device, u64, *const std::ffi::c_void);
        // SAFETY: every entry point named above has the signature
        // `void (VkDevice, <non-dispatchable handle>, const VkAllocationCallbacks*)`.
        let f = unsafe { std::mem::transmute::<unsafe extern "system" fn(), Destroy>(f) };
        // SAFETY: `host` is a live object of that type made on this device by us; the device
        // is being destroyed, so nothing uses it afterwards.
        unsafe { f(dev.handle(), host, std::ptr::null()) };
    }

    fn device(&self, id: u64) -> Result<&ash::Device, VenusError> {
        self.devices.get(&id).ok_or(VenusError::UnknownObject {
            object_type: ot::DEVICE,
            id,
        })
    }

    fn register_queue(
        &mut self,
        device: u64,
        queue: vk::Queue,
        id: Option<u64>,
    ) -> Result<(), VenusError> {
        let id = id.ok_or(VenusError::NullParam("pQueue"))?;
        if queue == vk::Queue::null() {
            return Err(VenusError::Invalid("no such queue".into()));
        }
        match self.queues.get(&id) {
            Some(&(q, _)) if q == queue => return Ok(()),
            Some(_) => return Err(VenusError::InvalidObjectId(id)),
            None => {}
        }
        self.objects.insert(id, ot::QUEUE, queue.as_raw())?;
        self.queues.insert(id, (queue, device));
        Ok(())
    }

    fn create_device(&mut self, a: &c::vkCreateDevice_args<'_>) -> Result<i32, VenusError> {
        let pd = self.physical_device(a.physicalDevice)?;
        let id = a.pDevice.as_deref().copied().unwrap_or(0);
        let info = a.pCreateInfo.ok_or(VenusError::NullParam("pCreateInfo"))?;
        if info.enabledLayerCount != 0 {
            return Ok(vk::Result::ERROR_LAYER_NOT_PRESENT.as_raw());
        }
        let served: Vec<Vec<u8>> = self
            .device_extensions(pd)?
            .iter()
            .filter_map(|e| {
                e.extension_name_as_c_str()
                    .ok()
                    .map(|n| n.to_bytes().to_vec())
            })
            .collect();
        // SAFETY: the decoder built ppEnabledExtensionNames with enabledExtensionCount
        // NUL-terminated strings (or null).
        let names = unsafe {
            crate::wire::raw_slice(
                info.ppEnabledExtensionNames,
                info.enabledExtensionCount as usize,
            )
        };
        for &n in names {
            if n.is_null() {
                return Err(VenusError::Invalid("null extension name".into()));
            }
            // SAFETY: NUL-terminated arena string (see above).
            let name = unsafe { std::ffi::CStr::from_ptr(n) }.to_bytes();
            if !served.iter().any(|s| s == name) {
                return Ok(vk::Result::ERROR_EXTENSION_NOT_PRESENT.as_raw());
            }
        }
        if id == 0 || self.devices.contains_key(&id) {
            return Err(VenusError::InvalidObjectId(id));
        }
        // Device memory reaches the guest as a blob fd, so the host device needs
        // VK_EXT_external_memory_host (memory in our memfds) or VK_KHR_external_memory_fd
        // (exported memory) even when the guest did not ask for them (upstream likewise adds
        // what its memory export needs).
        const MEMORY_FD: &std::ffi::CStr = c"VK_KHR_external_memory_fd";
        const MEMORY_HOST: &std::ffi::CStr = c"VK_EXT_external_memory_host";
        let mut ext_names: Vec<*const std::ffi::c_char> = names.to_vec();
        let mut enabled = [false; 2];
        for (i, ext) in [MEMORY_FD, MEMORY_HOST].into_iter().enumerate() {
            let host_has = self.host_device_has(pd, ext)?;
            // SAFETY: NUL-terminated arena strings (checked above).
            let asked = names
                .iter()
                .any(|&n| unsafe { std::ffi::CStr::from_ptr(n) } == ext);
            if host_has && !asked {
                ext_names.push(ext.as_ptr());
            }
            enabled[i] = host_has || asked;
        }
        let [host_has_fd, host_has_host_memory] = enabled;
        let mut host_info = *info;
        host_info.enabledExtensionCount = ext_names.len() as u32;
        host_info.ppEnabledExtensionNames = ext_names.as_ptr();
        let inst = self.instance()?;
        let mut handle = vk::Device::null();
        // SAFETY: valid physical device; the create info and its chain were decoded into the
        // arena with only the structures vk.xml allows for VkDeviceCreateInfo, names checked
        // against the extensions we serve (plus ours, alive in `ext_names`).
        let result = unsafe {
            (inst.instance.fp_v1_0().create_device)(
                pd,
                std::ptr::from_ref(&host_info).cast(),
                std::ptr::null(),
                &mut handle,
            )
        };
        if result != vk::Result::SUCCESS {
            return Ok(result.as_raw());
        }
        // SAFETY: `handle` is a device just created from this instance.
        let device = unsafe { ash::Device::load(inst.instance.fp_v1_0(), handle) };
        self.objects.insert(id, ot::DEVICE, handle.as_raw())?;
        self.devices.insert(id, device);
        self.device_physical.insert(id, pd);
        if host_has_fd {
            self.memory_fd_devices.insert(id);
        }
        if host_has_host_memory {
            self.host_memory_devices.insert(id);
        }
        Ok(vk::Result::SUCCESS.as_raw())
    }

    /// Whether the host driver has a device extension (whether or not the protocol serves it).
    fn host_device_has(
        &self,
        pd: vk::PhysicalDevice,
        name: &std::ffi::CStr,
    ) -> Result<bool, VenusError> {
        let i = &self.instance()?.instance;
        // SAFETY: valid physical device.
        let all = unsafe { i.enumerate_device_extension_properties(pd) }
            .map_err(|e| VenusError::Host(format!("vkEnumerateDeviceExtensionProperties: {e}")))?;
        Ok(all.iter().any(|e| e.extension_name_as_c_str() == Ok(name)))
    }

    fn device_extensions(
        &mut self,
        pd: vk::PhysicalDevice,
    ) -> Result<&[vk::ExtensionProperties], VenusError> {
        let key = pd.as_raw();
        if !self.device_extensions.contains_key(&key) {
            let i = &self.instance()?.instance;
            // SAFETY: valid physical device.
            let host = unsafe { i.enumerate_device_extension_properties(pd) }.map_err(|e| {
                VenusError::Host(format!("vkEnumerateDeviceExtensionProperties: {e}"))
            })?;
            let served: Vec<vk::ExtensionProperties> = host
                .into_iter()
                .filter_map(|mut e| {
                    let name = e.extension_name_as_c_str().ok()?.to_str().ok()?.to_string();
                    let (_, spec) = serves_extension(&name)?;
                    e.spec_version = e.spec_version.min(spec);
                    Some(e)
                })
                .collect();
            self.device_extensions.insert(key, served);
        }
        Ok(&self.device_extensions[&key])
    }

    fn set_reply_stream(&mut self, r: &mut Reader<'_>) -> Result<(), VenusError> {
        // const VkCommandStreamDescriptionMESA* pStream: presence, then {u32 resourceId, u64
        // offset, u64 size}.
        if r.u64()? == 0 {
            return Err(VenusError::NullParam("vkSetReplyCommandStreamMESA.pStream"));
        }
        let res_id = r.u32()?;
        let offset = r.u64()?;
        let size = r.u64()?;
        let shm = self.shm.get(&res_id).cloned().ok_or_else(|| {
            VenusError::Invalid(format!("reply stream in non-SHM resource {res_id}"))
        })?;
        if offset
            .checked_add(size)
            .is_none_or(|end| end > shm.len() as u64)
        {
            return Err(VenusError::Invalid(
                "reply stream outside its resource".into(),
            ));
        }
        self.reply = Some(ReplyStream {
            shm,
            offset,
            size,
            pos: 0,
        });
        Ok(())
    }

    fn execute_streams(&mut self, r: &mut Reader<'_>) -> Result<(), VenusError> {
        if self.in_execute_streams {
            return Err(VenusError::Invalid(
                "nested vkExecuteCommandStreamsMESA".into(),
            ));
        }
        let count = r.u32()?;
        if count == 0 {
            return Err(VenusError::Invalid(
                "vkExecuteCommandStreamsMESA without streams".into(),
            ));
        }
        let n = r.array_size(u64::from(count))?;
        let n = r.check_count(n as u64, 20)?;
        let mut streams = Vec::with_capacity(n);
        for _ in 0..n {
            streams.push((r.u32()?, r.u64()?, r.u64()?));
        }
        let positions = if r.peek_u64() != 0 {
            let n = r.array_size(u64::from(count))?;
            let n = r.check_count(n as u64, 8)?;
            (0..n).map(|_| r.u64()).collect::<Result<Vec<_>, _>>()?
        } else {
            r.u64()?;
            Vec::new()
        };
        let deps = r.u32()?;
        if r.peek_u64() != 0 {
            let n = r.array_size(u64::from(deps))?;
            let n = r.check_count(n as u64, 8)?;
            r.skip(n * 8)?;
        } else {
            r.u64()?;
        }
        let _flags = r.u32()?;
        self.in_execute_streams = true;
        let result = (|| {
            for (i, &(res_id, offset, size)) in streams.iter().enumerate() {
                if let Some(&pos) = positions.get(i) {
                    if let Some(reply) = self.reply.as_mut() {
                        reply.pos = pos.min(reply.size);
                    }
                }
                if size == 0 {
                    continue;
                }
                let shm = self.shm.get(&res_id).cloned().ok_or_else(|| {
                    VenusError::Invalid(format!("command stream in non-SHM resource {res_id}"))
                })?;
                let len = usize::try_from(size).map_err(|_| VenusError::TooLarge("stream"))?;
                if len > shm.len() {
                    return Err(VenusError::TooLarge("stream"));
                }
                let mut bytes = vec![0; len];
                shm.read(offset, &mut bytes)?;
                self.execute_stream(&bytes)?;
            }
            Ok(())
        })();
        self.in_execute_streams = false;
        result
    }
}

fn c_ext(name: &str, spec: u32) -> crate::generated::types::VkExtensionProperties {
    let mut e: crate::generated::types::VkExtensionProperties = crate::wire::zeroed();
    let n = name.len().min(255);
    e.extensionName[..n].copy_from_slice(&name.as_bytes()[..n]);
    e.specVersion = spec;
    e
}

/// The host loader's instance version (1.0 when it cannot say).
pub fn host_instance_version(entry: &ash::Entry) -> u32 {
    // SAFETY: a plain query on a loaded entry.
    unsafe { entry.try_enumerate_instance_version() }
        .ok()
        .flatten()
        .unwrap_or(vk::API_VERSION_1_0)
}

/// The host's Vulkan loader, or why it is missing.
pub fn load_entry() -> Result<ash::Entry, VenusError> {
    // SAFETY: loading the system Vulkan loader runs its initialisers; it is the library this
    // backend exists to use.
    unsafe { ash::Entry::load() }.map_err(|e| VenusError::NotAvailable(format!("libvulkan: {e}")))
}
