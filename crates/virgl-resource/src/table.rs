//! The global resource table.

use std::collections::HashMap;

use crate::ResourceError;

/// What the guest asked for when it created a 3D resource (`virgl_renderer_resource_create_args`,
/// vtest RESOURCE_CREATE(2), `VIRGL_CCMD_PIPE_RESOURCE_CREATE`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ResourceCreateArgs {
    pub handle: u32,
    /// `enum pipe_texture_target` value.
    pub target: u32,
    /// `enum virgl_formats` value.
    pub format: u32,
    /// `VIRGL_BIND_*` flags.
    pub bind: u32,
    pub width: u32,
    pub height: u32,
    pub depth: u32,
    pub array_size: u32,
    pub last_level: u32,
    pub nr_samples: u32,
    pub flags: u32,
}

/// One resource as the renderer knows it.
#[derive(Debug)]
pub struct Resource {
    pub id: u32,
    /// Present for 3D resources; blobs without a pipe description have none.
    pub args: Option<ResourceCreateArgs>,
}

/// All resources of one renderer, keyed by the guest's resource id.
#[derive(Debug, Default)]
pub struct ResourceTable {
    resources: HashMap<u32, Resource>,
}

impl ResourceTable {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a resource; ids 0 and duplicates are refused.
    pub fn insert(&mut self, resource: Resource) -> Result<(), ResourceError> {
        if resource.id == 0 {
            return Err(ResourceError::ZeroId);
        }
        if self.resources.contains_key(&resource.id) {
            return Err(ResourceError::DuplicateId(resource.id));
        }
        self.resources.insert(resource.id, resource);
        Ok(())
    }

    pub fn get(&self, id: u32) -> Option<&Resource> {
        self.resources.get(&id)
    }

    pub fn get_mut(&mut self, id: u32) -> Option<&mut Resource> {
        self.resources.get_mut(&id)
    }

    pub fn remove(&mut self, id: u32) -> Option<Resource> {
        self.resources.remove(&id)
    }
}
