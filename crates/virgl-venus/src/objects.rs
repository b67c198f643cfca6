//! The per-context object table: guest object ids (u64, chosen by the guest) to host handles,
//! typed by `VkObjectType`.

use std::collections::HashMap;

use crate::wire::{Handles, WireResult};
use crate::VenusError;

/// `VkObjectType` values we track.
pub mod object_type {
    pub const INSTANCE: i32 = 1;
    pub const PHYSICAL_DEVICE: i32 = 2;
    pub const DEVICE: i32 = 3;
    pub const QUEUE: i32 = 4;
}

/// id -> (type, host handle), and the reverse for replies.
#[derive(Debug, Default)]
pub struct Objects {
    by_id: HashMap<u64, (i32, u64)>,
    by_host: HashMap<(i32, u64), u64>,
}

impl Objects {
    /// Records a new object; id 0 and ids in use are refused (upstream `validate_object_id`).
    pub fn insert(&mut self, id: u64, object_type: i32, host: u64) -> Result<(), VenusError> {
        if id == 0 || self.by_id.contains_key(&id) {
            return Err(VenusError::InvalidObjectId(id));
        }
        self.by_id.insert(id, (object_type, host));
        self.by_host.insert((object_type, host), id);
        Ok(())
    }

    /// Whether a guest id is in use.
    pub fn guest_id_exists(&self, id: u64) -> bool {
        self.by_id.contains_key(&id)
    }

    /// Forgets an object; returns its host handle.
    pub fn remove(&mut self, id: u64) -> Option<u64> {
        let (ty, host) = self.by_id.remove(&id)?;
        self.by_host.remove(&(ty, host));
        Some(host)
    }

    /// The host handle of a live object of type `object_type`.
    pub fn get(&self, object_type: i32, id: u64) -> Result<u64, VenusError> {
        match self.by_id.get(&id) {
            Some(&(ty, host)) if ty == object_type => Ok(host),
            _ => Err(VenusError::UnknownObject { object_type, id }),
        }
    }

    /// Guest id of a host handle, if registered.
    pub fn guest_id(&self, object_type: i32, host: u64) -> Option<u64> {
        self.by_host.get(&(object_type, host)).copied()
    }

    /// Removes every object of a type.
    pub fn remove_type(&mut self, object_type: i32) {
        let ids: Vec<u64> = self
            .by_id
            .iter()
            .filter(|(_, (ty, _))| *ty == object_type)
            .map(|(id, _)| *id)
            .collect();
        for id in ids {
            self.remove(id);
        }
    }

    #[cfg(test)]
    fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }
}

impl Handles for Objects {
    fn to_host(&self, object_type: i32, id: u64) -> WireResult<u64> {
        if id == 0 {
            return Ok(0);
        }
        // Types we do not track yet cannot be referenced.
        self.get(object_type, id)
    }

    fn to_guest(&self, object_type: i32, host: u64) -> u64 {
        if host == 0 {
            return 0;
        }
        self.guest_id(object_type, host).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_typed_and_unique() {
        let mut o = Objects::default();
        o.insert(7, object_type::INSTANCE, 0x1000).unwrap();
        assert!(o.insert(7, object_type::INSTANCE, 0x2000).is_err());
        assert!(o.insert(0, object_type::INSTANCE, 0x2000).is_err());
        assert_eq!(o.get(object_type::INSTANCE, 7).unwrap(), 0x1000);
        assert!(o.get(object_type::PHYSICAL_DEVICE, 7).is_err());
        assert_eq!(o.to_guest(object_type::INSTANCE, 0x1000), 7);
        assert_eq!(o.remove(7), Some(0x1000));
        assert!(o.is_empty());
    }
}
