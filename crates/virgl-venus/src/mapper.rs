//! CPU mappings of `OPAQUE_FD` device memory for blobs (upstream's `vkr_allocator`).
//!
//! Device memory the guest allocated exportable (VkExportMemoryAllocateInfo: WSI images,
//! shareable memory) is made exportable by the driver so that other contexts — the GL backend's
//! `glImportMemoryFdEXT` — can import it. An `OPAQUE_FD` is not mmap-able in general (lavapipe's
//! is a memfd with a private header before the data), yet the blob must stay guest-mappable.
//! So the fd is imported into a Vulkan device of our own, on the same physical device (matched
//! by `deviceUUID`), and mapped there with `vkMapMemory`; that mapping is the blob's
//! ([`virgl_resource::FdMemory::with_mapping`]).
//!
//! Why a device of our own rather than the context's: the guest may free its memory, destroy
//! its device or its whole context while the resource lives on (other contexts hold it); the
//! import holds its own reference to the memory, so the mapping stays valid until the resource
//! goes, whatever the guest does.
//!
//! Devices are shared per `deviceUUID` and live as long as some mapping uses them (the
//! registry keeps weak references). [`map_opaque_memory`] does the same for an embedder that
//! only has the fd and its Vulkan description: the render-server proxy, whose blobs come from a
//! worker process.
//!
//! Not done: vtest cannot hand such a blob to its client (the client mmaps the fd itself).

use std::os::fd::{AsRawFd, IntoRawFd, OwnedFd};
use std::sync::{Arc, Mutex, Weak};

use ash::vk;
use virgl_resource::{Mapping, VulkanInfo};

use crate::VenusError;

/// Mapper devices by `deviceUUID`.
static DEVICES: Mutex<Vec<([u8; 16], Weak<MapperDevice>)>> = Mutex::new(Vec::new());

/// An instance and device of our own on one physical device, only for imports and maps.
struct MapperDevice {
    instance: ash::Instance,
    device: ash::Device,
    /// Keeps the loader loaded while the instance lives.
    _entry: Arc<ash::Entry>,
}

impl Drop for MapperDevice {
    fn drop(&mut self) {
        // SAFETY: every allocation of the device holds an Arc to it, so none is left; the
        // instance outlives its device.
        unsafe {
            self.device.destroy_device(None);
            self.instance.destroy_instance(None);
        }
    }
}

/// One imported allocation, mapped; freed when dropped (with the blob's mapping).
struct MappedImport {
    device: Arc<MapperDevice>,
    memory: vk::DeviceMemory,
}

impl Drop for MappedImport {
    fn drop(&mut self) {
        // SAFETY: memory of this device, mapped once, used by nobody once the blob's mapping
        // is gone (this is that mapping's owner).
        unsafe {
            self.device.device.unmap_memory(self.memory);
            self.device.device.free_memory(self.memory, None);
        }
    }
}

fn host_err(what: &str) -> impl Fn(vk::Result) -> VenusError + '_ {
    move |e| VenusError::Host(format!("{what}: {e}"))
}

impl MapperDevice {
    fn create(entry: Arc<ash::Entry>, uuid: [u8; 16]) -> Result<Self, VenusError> {
        let app = vk::ApplicationInfo::default().api_version(vk::API_VERSION_1_1);
        let info = vk::InstanceCreateInfo::default().application_info(&app);
        // SAFETY: plain instance creation on a loaded entry.
        let instance = unsafe { entry.create_instance(&info, None) }
            .map_err(host_err("vkCreateInstance (blob mapper)"))?;
        match Self::create_device(&instance, uuid) {
            Ok(device) => Ok(Self {
                instance,
                device,
                _entry: entry,
            }),
            Err(e) => {
                // SAFETY: the instance has no children.
                unsafe { instance.destroy_instance(None) };
                Err(e)
            }
        }
    }

    fn create_device(instance: &ash::Instance, uuid: [u8; 16]) -> Result<ash::Device, VenusError> {
        // SAFETY: a live instance.
        let physical = unsafe { instance.enumerate_physical_devices() }
            .map_err(host_err("vkEnumeratePhysicalDevices (blob mapper)"))?;
        let pd = physical
            .into_iter()
            .find(|&pd| {
                let mut id = vk::PhysicalDeviceIDProperties::default();
                let mut props = vk::PhysicalDeviceProperties2::default().push_next(&mut id);
                // SAFETY: a physical device of this instance; the chain is ours.
                unsafe { instance.get_physical_device_properties2(pd, &mut props) };
                id.device_uuid == uuid
            })
            .ok_or_else(|| VenusError::Host("no physical device with the memory's UUID".into()))?;
        let priority = [1.0f32];
        let queues = [vk::DeviceQueueCreateInfo::default()
            .queue_family_index(0)
            .queue_priorities(&priority)];
        let extensions = [ash::khr::external_memory_fd::NAME.as_ptr()];
        let info = vk::DeviceCreateInfo::default()
            .queue_create_infos(&queues)
            .enabled_extension_names(&extensions);
        // SAFETY: a physical device of this instance; the create info is ours.
        unsafe { instance.create_device(pd, &info, None) }
            .map_err(host_err("vkCreateDevice (blob mapper)"))
    }

    /// The live mapper device for `uuid`, created on first use.
    fn get(entry: &Arc<ash::Entry>, uuid: [u8; 16]) -> Result<Arc<Self>, VenusError> {
        let mut devices = DEVICES.lock().unwrap_or_else(|e| e.into_inner());
        devices.retain(|(_, d)| d.strong_count() > 0);
        if let Some(d) = devices
            .iter()
            .find(|(u, _)| *u == uuid)
            .and_then(|(_, d)| d.upgrade())
        {
            return Ok(d);
        }
        let d = Arc::new(Self::create(entry.clone(), uuid)?);
        devices.push((uuid, Arc::downgrade(&d)));
        Ok(d)
    }
}

/// What an `OPAQUE_FD` import must match: the exporter's device and allocation.
#[derive(Debug, Clone, Copy)]
pub(crate) struct OpaqueMemory {
    pub device_uuid: [u8; 16],
    pub allocation_size: u64,
    pub memory_type_index: u32,
}

/// Imports `fd` (an `OPAQUE_FD` export of the memory `what` describes) into a mapper device
/// and maps `len` bytes of it. The mapping must be page-aligned (the VMM maps it into the
/// guest) and is refused otherwise.
pub(crate) fn map_opaque(
    entry: &Arc<ash::Entry>,
    what: OpaqueMemory,
    fd: OwnedFd,
    len: u64,
) -> Result<Mapping, VenusError> {
    if len > what.allocation_size {
        return Err(VenusError::Invalid(format!(
            "mapping of {len} bytes for {} bytes of memory",
            what.allocation_size
        )));
    }
    let len = usize::try_from(len).map_err(|_| VenusError::TooLarge("mapping length"))?;
    let device = MapperDevice::get(entry, what.device_uuid)?;
    let mut import = vk::ImportMemoryFdInfoKHR::default()
        .handle_type(vk::ExternalMemoryHandleTypeFlags::OPAQUE_FD)
        .fd(fd.as_raw_fd());
    let info = vk::MemoryAllocateInfo::default()
        .allocation_size(what.allocation_size)
        .memory_type_index(what.memory_type_index)
        .push_next(&mut import);
    // SAFETY: a live device; the import names an fd we own for the call.
    let memory = unsafe { device.device.allocate_memory(&info, None) }.map_err(host_err(
        "vkAllocateMemory importing an OPAQUE_FD (blob mapper)",
    ))?;
    // A successful import owns the fd now (a failed one left it to us: dropped above).
    let _ = fd.into_raw_fd();
    // SAFETY: memory just imported, not mapped yet, host-visible (it was exported from
    // host-visible memory of the same memory type).
    let mapped = unsafe {
        device
            .device
            .map_memory(memory, 0, vk::WHOLE_SIZE, vk::MemoryMapFlags::empty())
    };
    let ptr = match mapped {
        Ok(p) => p.cast::<u8>(),
        Err(e) => {
            // SAFETY: memory of this device, not mapped, used by nothing.
            unsafe { device.device.free_memory(memory, None) };
            return Err(host_err("vkMapMemory (blob mapper)")(e));
        }
    };
    let owner = MappedImport { device, memory };
    // 4 KiB: what the VMM needs to map it into the guest (and the guest's blob granule).
    let page = 4096;
    if !(ptr as usize).is_multiple_of(page) {
        return Err(VenusError::Host(format!(
            "the driver maps this memory at {ptr:p}, not page-aligned: no guest mapping"
        )));
    }
    // SAFETY: `ptr` maps the whole allocation (>= len bytes), readable and writable, until
    // `owner` unmaps it on drop; nothing else here references it.
    unsafe { Mapping::from_owner(ptr, len, Box::new(owner)) }
        .map_err(|e| VenusError::Host(e.to_string()))
}

/// Maps `len` bytes of `OPAQUE_FD` memory described by `info` (a blob another process — a
/// render-server worker — exported) for the blob's guest mapping: imported into a Vulkan
/// device of this process on the physical device `info.device_uuid` names. Loads the Vulkan
/// loader on first use.
pub fn map_opaque_memory(info: &VulkanInfo, fd: OwnedFd, len: u64) -> Result<Mapping, VenusError> {
    static ENTRY: std::sync::OnceLock<Result<Arc<ash::Entry>, String>> = std::sync::OnceLock::new();
    let entry = ENTRY
        .get_or_init(|| {
            crate::dispatch::load_entry()
                .map(Arc::new)
                .map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| VenusError::NotAvailable(e.clone()))?;
    map_opaque(
        entry,
        OpaqueMemory {
            device_uuid: info.device_uuid,
            allocation_size: info.allocation_size,
            memory_type_index: info.memory_type_index,
        },
        fd,
        len,
    )
}
