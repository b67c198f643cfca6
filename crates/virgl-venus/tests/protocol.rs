//! The generated Venus protocol against hostile and well-formed input: round trips through the
//! encoders and decoders, partial (output) decoding as Mesa sends it, and arbitrary bytes that
//! must produce errors, never panics.

use std::ffi::c_char;

use proptest::prelude::*;
use virgl_venus::generated::commands::{self as c, cmd};
use virgl_venus::generated::types::*;
use virgl_venus::wire::{zeroed, Arena, Cx, IdentityHandles, Reader, Wire, Writer};

fn cx(arena: &Arena) -> Cx<'_, 'static> {
    Cx {
        arena,
        handles: &IdentityHandles,
    }
}

/// Encodes `v`, decodes the bytes, encodes the result again: both encodings must agree and the
/// decoder must consume exactly what the encoder wrote.
fn round_trip<T: Wire>(v: &T) -> Vec<u8> {
    let mut w = Writer::new();
    // SAFETY: the tests only build values whose pointers point at live locals.
    unsafe { v.encode(&mut w, &IdentityHandles) };
    let bytes = w.into_bytes();
    let arena = Arena::new(1 << 20);
    let mut r = Reader::new(&bytes);
    let mut back: T = zeroed();
    T::decode(&mut r, &cx(&arena), &mut back).expect("decode");
    assert_eq!(r.remaining(), 0, "decoder left bytes");
    let mut w2 = Writer::new();
    // SAFETY: `back` was built by the decoder in `arena`, which is still alive.
    unsafe { back.encode(&mut w2, &IdentityHandles) };
    assert_eq!(bytes, w2.as_bytes(), "re-encoding differs");
    bytes
}

#[test]
fn device_create_info_round_trip() {
    let priorities = [1.0f32, 0.5];
    let queue = VkDeviceQueueCreateInfo {
        sType: VkDeviceQueueCreateInfo::STYPE,
        pNext: std::ptr::null_mut(),
        flags: 0,
        queueFamilyIndex: 3,
        queueCount: 2,
        pQueuePriorities: priorities.as_ptr(),
    };
    let ext = c"VK_KHR_maintenance5";
    let names: [*const c_char; 1] = [ext.as_ptr()];
    let mut features: VkPhysicalDeviceFeatures = zeroed();
    features.samplerAnisotropy = 1;
    let mut v12: VkPhysicalDeviceVulkan12Features = zeroed();
    v12.sType = VkPhysicalDeviceVulkan12Features::STYPE;
    v12.timelineSemaphore = 1;
    let info = VkDeviceCreateInfo {
        sType: VkDeviceCreateInfo::STYPE,
        pNext: std::ptr::from_mut(&mut v12).cast(),
        flags: 0,
        queueCreateInfoCount: 1,
        pQueueCreateInfos: &queue,
        enabledLayerCount: 0,
        ppEnabledLayerNames: std::ptr::null(),
        enabledExtensionCount: 1,
        ppEnabledExtensionNames: names.as_ptr(),
        pEnabledFeatures: &features,
    };
    let bytes = round_trip(&info);
    // sType, then the chain: present, Vulkan12Features' sType, end, then its members.
    assert_eq!(&bytes[0..4], &VkDeviceCreateInfo::STYPE.to_le_bytes());
    assert_eq!(&bytes[4..12], &1u64.to_le_bytes());
    assert_eq!(
        &bytes[12..16],
        &VkPhysicalDeviceVulkan12Features::STYPE.to_le_bytes()
    );
    assert_eq!(&bytes[16..24], &0u64.to_le_bytes());
}

#[test]
fn properties_with_chain_round_trip() {
    let mut driver: VkPhysicalDeviceDriverProperties = zeroed();
    driver.sType = VkPhysicalDeviceDriverProperties::STYPE;
    driver.driverID = 10;
    driver.driverName[..5].copy_from_slice(b"venus");
    let mut v11: VkPhysicalDeviceVulkan11Properties = zeroed();
    v11.sType = VkPhysicalDeviceVulkan11Properties::STYPE;
    v11.pNext = std::ptr::from_mut(&mut driver).cast();
    v11.maxMultiviewViewCount = 6;
    let mut props: VkPhysicalDeviceProperties2 = zeroed();
    props.sType = VkPhysicalDeviceProperties2::STYPE;
    props.pNext = std::ptr::from_mut(&mut v11).cast();
    props.properties.apiVersion = (1 << 22) | (3 << 12);
    props.properties.limits.maxImageDimension2D = 16384;
    round_trip(&props);
}

#[test]
fn clear_value_union_round_trip() {
    let v = VkClearColorValue {
        float32: [0.25, 0.5, 0.75, 1.0],
    };
    let bytes = round_trip(&v);
    assert_eq!(bytes.len(), 4 + 8 + 16);
    // A member index out of range is an error.
    let mut bad = bytes.clone();
    bad[0] = 7;
    let arena = Arena::new(1 << 16);
    let mut out: VkClearColorValue = zeroed();
    assert!(VkClearColorValue::decode(&mut Reader::new(&bad), &cx(&arena), &mut out).is_err());
}

fn words(ws: &[u32]) -> Vec<u8> {
    ws.iter().flat_map(|w| w.to_le_bytes()).collect()
}

/// vkGetPhysicalDeviceProperties2 as Mesa sends it: physical device id, then the output struct
/// with only sType and the chain's sTypes (partial encoding).
fn properties2_request() -> Vec<u8> {
    let mut w = vec![];
    w.extend_from_slice(&[0x1234, 0]); // physicalDevice id
    w.extend_from_slice(&[1, 0]); // pProperties present
    w.push(VkPhysicalDeviceProperties2::STYPE as u32);
    w.extend_from_slice(&[1, 0, VkPhysicalDeviceVulkan11Properties::STYPE as u32]);
    w.extend_from_slice(&[1, 0, VkPhysicalDeviceDriverProperties::STYPE as u32]);
    w.extend_from_slice(&[0, 0]); // end of chain; no members are inputs
    words(&w)
}

#[test]
fn partial_decode_builds_the_chain_and_reply_encodes_it() {
    let bytes = properties2_request();
    let arena = Arena::new(1 << 20);
    let mut r = Reader::new(&bytes);
    let mut a = c::decode_vkGetPhysicalDeviceProperties2(&mut r, &cx(&arena)).unwrap();
    assert_eq!(r.remaining(), 0);
    assert_eq!(a.physicalDevice, 0x1234);
    let props = a.pProperties.as_deref_mut().unwrap();
    assert!(!props.pNext.is_null());
    // SAFETY: the decoder linked a VkPhysicalDeviceVulkan11Properties first (wire order).
    let v11 = unsafe { &mut *props.pNext.cast::<VkPhysicalDeviceVulkan11Properties>() };
    assert_eq!(v11.sType, VkPhysicalDeviceVulkan11Properties::STYPE);
    v11.maxMultiviewViewCount = 6;
    props.properties.limits.maxImageDimension2D = 4096;
    let mut w = Writer::new();
    // SAFETY: everything was built by the decoder in `arena`.
    unsafe { a.encode_reply(&mut w, &IdentityHandles) };
    let reply = w.into_bytes();
    // Reply: command type, then presence + the full structure.
    assert_eq!(
        &reply[0..4],
        &cmd::vkGetPhysicalDeviceProperties2.to_le_bytes()
    );
    let mut r = Reader::new(&reply[4..]);
    assert_eq!(r.u64().unwrap(), 1);
    let arena2 = Arena::new(1 << 20);
    let mut back: VkPhysicalDeviceProperties2 = zeroed();
    VkPhysicalDeviceProperties2::decode(&mut r, &cx(&arena2), &mut back).unwrap();
    assert_eq!(r.remaining(), 0);
    assert_eq!(back.properties.limits.maxImageDimension2D, 4096);
    // SAFETY: decoded chain, first link Vulkan11Properties.
    let v11 = unsafe { &*back.pNext.cast::<VkPhysicalDeviceVulkan11Properties>() };
    assert_eq!(v11.maxMultiviewViewCount, 6);
}

#[test]
fn chain_rejects_structures_the_parent_does_not_accept() {
    let mut bytes = properties2_request();
    // Replace the driver-properties link with a features struct (it extends Features2, not
    // Properties2).
    let at = bytes.len() - 12;
    bytes[at..at + 4].copy_from_slice(&VkPhysicalDeviceVulkan12Features::STYPE.to_le_bytes());
    let arena = Arena::new(1 << 20);
    let r = c::decode_vkGetPhysicalDeviceProperties2(&mut Reader::new(&bytes), &cx(&arena));
    assert!(r.is_err());
}

#[test]
fn counts_are_bounded_by_the_stream_and_the_budget() {
    // vkEnumeratePhysicalDevices with a count of 2^31 and a marker that agrees: the ids would
    // need 16 GiB of stream.
    let bytes = words(&[1, 0, 1, 0, 0x8000_0000, 0x8000_0000, 0]);
    let arena = Arena::new(1 << 20);
    assert!(c::decode_vkEnumeratePhysicalDevices(&mut Reader::new(&bytes), &cx(&arena)).is_err());
    // An output array (nothing on the wire per element) is bounded by the arena budget.
    let bytes = words(&[0x1234, 0, 1, 0, 0x4000_0000, 0x4000_0000, 0]);
    let r =
        c::decode_vkGetPhysicalDeviceQueueFamilyProperties2(&mut Reader::new(&bytes), &cx(&arena));
    assert!(r.is_err());
    assert!(arena.used() <= 1 << 20);
}

#[test]
fn truncated_requests_are_errors() {
    let bytes = properties2_request();
    for len in 0..bytes.len() {
        let arena = Arena::new(1 << 20);
        let r =
            c::decode_vkGetPhysicalDeviceProperties2(&mut Reader::new(&bytes[..len]), &cx(&arena));
        assert!(r.is_err(), "prefix of {len} bytes decoded");
    }
}

#[test]
fn command_table_matches_the_numbering() {
    assert_eq!(c::command_name(0), Some("vkCreateInstance"));
    assert_eq!(c::command_name(195), None);
    assert_eq!(cmd::vkEnumerateInstanceVersion, 137);
    // Every command is either generated or listed as skipped (with a reason).
    for ty in (0..335).filter(|&t| t != 195) {
        let arena = Arena::new(1 << 16);
        let generated = c::decode_and_drop(ty, &mut Reader::new(&[]), &cx(&arena)).is_err();
        let skipped = c::SKIPPED.iter().any(|(n, _, _)| *n == ty);
        assert!(generated ^ skipped, "command {ty}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Arbitrary bytes for arbitrary command types: decoding returns, whatever it returns.
    #[test]
    fn arbitrary_bytes_never_panic(
        ty in 0u32..340,
        data in proptest::collection::vec(any::<u8>(), 0..512),
    ) {
        let arena = Arena::new(1 << 20);
        let _ = c::decode_and_drop(ty, &mut Reader::new(&data), &cx(&arena));
    }

    /// Small words (counts, markers, real sTypes) reach deeper into the decoders than uniform
    /// bytes do.
    #[test]
    fn small_words_never_panic(
        ty in 0u32..340,
        ws in proptest::collection::vec(
            prop_oneof![0u32..4, Just(VkPhysicalDeviceVulkan11Properties::STYPE as u32), any::<u32>()],
            0..128,
        ),
    ) {
        let bytes = words(&ws);
        let arena = Arena::new(1 << 20);
        let _ = c::decode_and_drop(ty, &mut Reader::new(&bytes), &cx(&arena));
    }

    /// Mutating one word of a valid request never panics.
    #[test]
    fn mutated_request_never_panics(at in 0usize..64, value in any::<u32>()) {
        let mut bytes = properties2_request();
        let i = (at * 4) % bytes.len();
        bytes[i..i + 4].copy_from_slice(&value.to_le_bytes());
        let arena = Arena::new(1 << 20);
        let _ = c::decode_vkGetPhysicalDeviceProperties2(&mut Reader::new(&bytes), &cx(&arena));
    }
}
