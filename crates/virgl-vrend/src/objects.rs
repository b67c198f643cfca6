//! The per-sub-context object table (`VIRGL_OBJECT_*`) and the objects part 1 interprets.
//!
//! Handles are the guest's: 0 is invalid, a handle names at most one object at a time, and
//! every lookup names the type it expects, so a handle of the wrong type is an error rather
//! than a reinterpretation. Objects are kept decoded; sampler views, sampler states and queries
//! own a GL object, deleted when the object is destroyed or its sub-context goes away.

use std::collections::HashMap;
use std::rc::Rc;

use virgl_protocol::command::{BlendState, DsaState, RasterizerState, StreamoutTarget};

use crate::budget::{Budget, ObjectCharges};
use crate::error::{VrendError, VrendResult};
use crate::program::ShaderObj;
use crate::query::QueryObj;
use crate::vertex::VertexElementsObj;
use crate::views::{SamplerObj, SamplerViewObj};

/// `enum virgl_object_type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ObjectType {
    Blend = 1,
    Rasterizer = 2,
    Dsa = 3,
    Shader = 4,
    VertexElements = 5,
    SamplerView = 6,
    SamplerState = 7,
    Surface = 8,
    Query = 9,
    StreamoutTarget = 10,
    MsaaSurface = 11,
}

impl ObjectType {
    /// Decodes the header's object byte; `NULL` (0) and values ≥ 12 are invalid.
    pub fn from_raw(raw: u32) -> VrendResult<Self> {
        use ObjectType::*;
        Ok(match raw {
            1 => Blend,
            2 => Rasterizer,
            3 => Dsa,
            4 => Shader,
            5 => VertexElements,
            6 => SamplerView,
            7 => SamplerState,
            8 => Surface,
            9 => Query,
            10 => StreamoutTarget,
            11 => MsaaSurface,
            other => return Err(VrendError::Invalid(format!("object type {other}"))),
        })
    }
}

/// A surface: one level (and a layer range) of a texture, or a range of a buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Surface {
    pub res_id: u32,
    pub format: u32,
    pub level: u32,
    pub first_layer: u32,
    pub last_layer: u32,
    pub samples: u32,
    /// A texture view `(texture, GL target)` covering exactly the surface's level and layers,
    /// made when the surface's format differs from the resource's (rendering "as" another
    /// format); attachments then use the view's level 0 and relative layers.
    pub view: Option<(glow::Texture, u32)>,
}

/// One object of a sub-context, decoded (and, where it has one, with its GL object).
#[derive(Debug)]
pub enum Object {
    Surface(Surface),
    Blend(BlendState),
    Rasterizer(RasterizerState),
    Dsa(DsaState),
    VertexElements(VertexElementsObj),
    SamplerView(SamplerViewObj),
    /// Shared with identical states through the sub-context's sampler cache.
    SamplerState(Rc<SamplerObj>),
    Shader(Rc<ShaderObj>),
    Query(QueryObj),
    StreamoutTarget(StreamoutTarget),
}

impl Object {
    pub fn ty(&self) -> ObjectType {
        match self {
            Object::Surface(s) if s.samples > 0 => ObjectType::MsaaSurface,
            Object::Surface(_) => ObjectType::Surface,
            Object::Blend(_) => ObjectType::Blend,
            Object::Rasterizer(_) => ObjectType::Rasterizer,
            Object::Dsa(_) => ObjectType::Dsa,
            Object::VertexElements(_) => ObjectType::VertexElements,
            Object::SamplerView(_) => ObjectType::SamplerView,
            Object::SamplerState(_) => ObjectType::SamplerState,
            Object::Shader(_) => ObjectType::Shader,
            Object::Query(_) => ObjectType::Query,
            Object::StreamoutTarget(_) => ObjectType::StreamoutTarget,
        }
    }

    /// Deletes the GL objects this object owns (on the sub-context's current GL context).
    pub fn release(self, gl: &glow::Context) {
        match self {
            Object::SamplerView(v) => v.release(gl),
            // The sampler cache deletes GL samplers (see `SamplerCache::release`).
            Object::SamplerState(_) => {}
            Object::Query(q) => q.release(gl),
            Object::Surface(Surface {
                view: Some((tex, _)),
                ..
            }) => {
                // SAFETY: the view was created for this surface and is referenced nowhere else.
                unsafe { glow::HasContext::delete_texture(gl, tex) }
            }
            // Shader GL objects are owned by the program cache, which drops them with the
            // last program using them.
            _ => {}
        }
    }
}

/// Objects of one sub-context, keyed by guest handle.
#[derive(Debug, Default)]
pub struct ObjectTable {
    objects: HashMap<u32, Object>,
    /// Currently bound handle per bindable type.
    bound: HashMap<u8, u32>,
    /// What each object costs the context's byte budget.
    charges: ObjectCharges,
}

/// Largest number of objects one sub-context may hold (bounds host memory per guest).
const MAX_OBJECTS: usize = 1 << 20;

impl ObjectTable {
    /// An empty table whose objects are charged to `budget`.
    pub fn with_budget(budget: Rc<Budget>) -> Self {
        Self {
            objects: HashMap::new(),
            bound: HashMap::new(),
            charges: ObjectCharges::new(budget),
        }
    }

    /// Adds `object` under `handle`. A refused object comes back with the error so the caller
    /// can delete the GL objects it owns (a guest repeating refused creates must not leak them).
    pub fn insert(&mut self, handle: u32, object: Object) -> Result<(), Box<(VrendError, Object)>> {
        let refuse = |e: VrendError, object| Err(Box::new((e, object)));
        if handle == 0 {
            return refuse(VrendError::Invalid("object handle 0".into()), object);
        }
        if self.objects.contains_key(&handle) {
            let e = VrendError::Invalid(format!("object handle {handle} already in use"));
            return refuse(e, object);
        }
        if self.objects.len() >= MAX_OBJECTS {
            return refuse(VrendError::Invalid("too many objects".into()), object);
        }
        if let Err(e) = self.charges.charge(handle, &object) {
            return refuse(e, object);
        }
        self.objects.insert(handle, object);
        Ok(())
    }

    /// The object of `handle`, which must be of type `ty`.
    pub fn get(&self, ty: ObjectType, handle: u32) -> VrendResult<&Object> {
        match self.objects.get(&handle) {
            None => Err(VrendError::Invalid(format!(
                "unknown {ty:?} handle {handle}"
            ))),
            Some(o) if o.ty() != ty => Err(VrendError::Invalid(format!(
                "handle {handle} is a {:?}, not a {ty:?}",
                o.ty()
            ))),
            Some(o) => Ok(o),
        }
    }

    /// The object of `handle`, mutably, which must be of type `ty`.
    pub fn get_mut(&mut self, ty: ObjectType, handle: u32) -> VrendResult<&mut Object> {
        self.get(ty, handle)?;
        self.objects
            .get_mut(&handle)
            .ok_or_else(|| VrendError::Invalid("vanished object".into()))
    }

    pub fn surface(&self, handle: u32) -> VrendResult<Surface> {
        match self.objects.get(&handle) {
            Some(Object::Surface(s)) => Ok(*s),
            Some(o) => Err(VrendError::Invalid(format!(
                "handle {handle} is a {:?}, not a surface",
                o.ty()
            ))),
            None => Err(VrendError::Invalid(format!(
                "unknown surface handle {handle}"
            ))),
        }
    }

    /// Every object, for teardown.
    pub fn drain(&mut self) -> impl Iterator<Item = Object> + '_ {
        self.bound.clear();
        self.charges.refund_all();
        self.objects.drain().map(|(_, o)| o)
    }

    pub fn remove(&mut self, ty: ObjectType, handle: u32) -> VrendResult<Object> {
        self.get(ty, handle)?;
        self.bound.retain(|_, h| *h != handle);
        self.charges.refund(handle);
        self.objects
            .remove(&handle)
            .ok_or_else(|| VrendError::Invalid("vanished object".into()))
    }

    /// Binds `handle` (0 unbinds) for its type.
    pub fn bind(&mut self, ty: ObjectType, handle: u32) -> VrendResult<()> {
        match ty {
            ObjectType::Blend
            | ObjectType::Rasterizer
            | ObjectType::Dsa
            | ObjectType::VertexElements => {}
            other => return Err(VrendError::Invalid(format!("BIND_OBJECT of a {other:?}"))),
        }
        if handle != 0 {
            self.get(ty, handle)?;
            self.bound.insert(ty as u8, handle);
        } else {
            self.bound.remove(&(ty as u8));
        }
        Ok(())
    }

    /// The bound handle of a type.
    pub fn bound(&self, ty: ObjectType) -> Option<u32> {
        self.bound.get(&(ty as u8)).copied()
    }

    /// The bound object of a type.
    pub fn bound_object(&self, ty: ObjectType) -> Option<&Object> {
        self.objects.get(&self.bound(ty)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blend() -> Object {
        Object::Blend(BlendState {
            handle: 5,
            independent_blend_enable: false,
            logicop_enable: false,
            dither: false,
            alpha_to_coverage: false,
            alpha_to_one: false,
            logicop_func: 0,
            rt: Default::default(),
        })
    }

    #[test]
    fn handle_rules() {
        let mut t = ObjectTable::default();
        assert!(t.insert(0, blend()).is_err());
        t.insert(5, blend()).unwrap();
        assert!(t.insert(5, blend()).is_err(), "reuse of a live handle");
        assert!(t.get(ObjectType::Dsa, 5).is_err(), "wrong type");
        assert!(t.get(ObjectType::Blend, 6).is_err(), "unknown");
        t.bind(ObjectType::Blend, 5).unwrap();
        assert_eq!(t.bound(ObjectType::Blend), Some(5));
        assert!(t.remove(ObjectType::Rasterizer, 5).is_err());
        t.remove(ObjectType::Blend, 5).unwrap();
        assert_eq!(t.bound(ObjectType::Blend), None);
        t.insert(5, blend()).unwrap();
    }
}
