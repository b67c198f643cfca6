//! vtest requests and replies: every command encodes and decodes back to itself, through the
//! slice parser and through `FrameDecoder` fed in arbitrary pieces; hostile bytes never panic.

use proptest::prelude::*;
use virgl_protocol::vtest::*;
use virgl_protocol::ProtocolError;

fn transfer() -> Transfer {
    Transfer {
        handle: 7,
        level: 1,
        stride: 256,
        layer_stride: 4096,
        region: TransferBox {
            x: 1,
            y: 2,
            z: 3,
            width: 4,
            height: 5,
            depth: 6,
        },
        data_size: 0,
    }
}

fn transfer2() -> Transfer2 {
    Transfer2 {
        handle: 9,
        level: 2,
        region: TransferBox {
            x: 10,
            y: 20,
            z: 0,
            width: 30,
            height: 40,
            depth: 1,
        },
        data_size: 4800,
        offset: 64,
    }
}

fn batch(cmds: Vec<u32>, syncs: usize, flags: u32) -> SubmitBatch {
    SubmitBatch {
        flags,
        cmds,
        syncs: (0..syncs)
            .map(|i| SyncPoint {
                sync_id: i as u32 + 1,
                value: (i as u64) << 33 | 5,
            })
            .collect(),
        ring_idx: 3,
        in_syncobjs: Vec::new(),
        out_syncobjs: Vec::new(),
    }
}

/// One request of every command id.
fn every_request() -> Vec<Request> {
    let desc = ResourceDesc {
        handle: 0,
        target: 2,
        format: 1,
        bind: 0x2,
        width: 64,
        height: 32,
        depth: 1,
        array_size: 1,
        last_level: 0,
        nr_samples: 0,
    };
    let mut with_syncobjs = batch(vec![0xdead_beef; 3], 1, SUBMIT_CMD2_FLAG_RING_IDX);
    with_syncobjs.in_syncobjs = vec![ExecbufSyncobj {
        handle: 4,
        flags: 1,
        point: 9,
    }];
    with_syncobjs.out_syncobjs = vec![ExecbufSyncobj {
        handle: 5,
        flags: 0,
        point: u64::MAX,
    }];
    vec![
        Request::GetCaps,
        Request::ResourceCreate(ResourceDesc { handle: 5, ..desc }),
        Request::ResourceUnref { handle: 5 },
        Request::TransferGet(Transfer {
            data_size: 80,
            ..transfer()
        }),
        Request::TransferPut(TransferPut {
            transfer: Transfer {
                data_size: 7,
                ..transfer()
            },
            data: vec![1, 2, 3, 4, 5, 6, 7],
        }),
        Request::SubmitCmd {
            cmds: vec![1, 2, 3, 0xffff_ffff],
        },
        Request::ResourceBusyWait {
            handle: 3,
            flags: BUSY_WAIT_FLAG_WAIT,
        },
        Request::CreateRenderer(CreateRenderer::new("wflinfo")),
        Request::GetCaps2,
        Request::PingProtocolVersion,
        Request::ProtocolVersion { version: 4 },
        Request::ResourceCreate2(ResourceCreate2 {
            desc,
            data_size: 8192,
        }),
        Request::TransferGet2(transfer2()),
        Request::TransferPut2(transfer2()),
        Request::GetParam {
            param: PARAM_MAX_TIMELINE_COUNT,
        },
        Request::GetCapset { id: 4, version: 0 },
        Request::ContextInit { capset_id: 4 },
        Request::ResourceCreateBlob(ResourceCreateBlob {
            blob_type: BLOB_TYPE_HOST3D,
            flags: BLOB_FLAG_MAPPABLE | BLOB_FLAG_SHAREABLE,
            size: 0x1_0000_1000,
            blob_id: 0xabcd_0000_0001,
        }),
        Request::SyncCreate {
            value: 0x1234_5678_9abc,
        },
        Request::SyncUnref { sync_id: 8 },
        Request::SyncRead { sync_id: 8 },
        Request::SyncWrite {
            sync_id: 8,
            value: u64::MAX - 1,
        },
        Request::SyncWait(SyncWait {
            flags: SYNC_WAIT_FLAG_ANY,
            timeout_ms: u32::MAX,
            points: vec![
                SyncPoint {
                    sync_id: 1,
                    value: 2,
                },
                SyncPoint {
                    sync_id: 3,
                    value: 1 << 40,
                },
            ],
        }),
        Request::SubmitCmd2(SubmitCmd2 {
            batches: vec![
                batch(vec![1, 2, 3], 2, SUBMIT_CMD2_FLAG_RING_IDX),
                batch(vec![], 0, 0),
                batch(
                    vec![9; 17],
                    1,
                    SUBMIT_CMD2_FLAG_RING_IDX | SUBMIT_CMD2_FLAG_IN_FENCE_FD,
                ),
                with_syncobjs,
            ],
        }),
        Request::DrmSyncCreate { flags: 1 },
        Request::DrmSyncDestroy { handle: 2 },
        Request::DrmSyncHandleToFd { handle: 2 },
        Request::DrmSyncFdToHandle,
        Request::DrmSyncImportSyncFile { handle: 2 },
        Request::DrmSyncExportSyncFile { handle: 2 },
        Request::DrmSyncWait(DrmSyncWait {
            timeout: 1 << 35,
            flags: DRM_SYNCOBJ_WAIT_FLAGS_WAIT_FD,
            handles: vec![1, 2, 3],
        }),
        Request::DrmSyncReset {
            handles: vec![4, 5],
        },
        Request::DrmSyncSignal { handles: vec![6] },
        Request::DrmSyncTimelineSignal {
            points: vec![10, 20],
            handles: vec![1, 2],
        },
        Request::DrmSyncTimelineWait(DrmSyncTimelineWait {
            timeout: 5,
            flags: 0,
            points: vec![7, 8],
            handles: vec![9, 10],
        }),
        Request::DrmSyncQuery {
            flags: 0,
            handles: vec![1, 2, 3, 4],
        },
        Request::DrmSyncTransfer(DrmSyncTransfer {
            dst_handle: 1,
            dst_point: 2,
            src_handle: 3,
            src_point: 1 << 50,
            flags: 7,
        }),
        Request::ResourceExportFd { handle: 11 },
    ]
}

#[test]
fn every_command_is_covered() {
    let mut ids: Vec<VcmdId> = every_request().iter().map(Request::id).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids, VcmdId::ALL);
}

#[test]
fn every_request_round_trips_through_parse() {
    for req in every_request() {
        let bytes = req.encode(PROTOCOL_VERSION);
        let (back, used) = Request::parse(&bytes, PROTOCOL_VERSION, DEFAULT_MAX_PAYLOAD)
            .unwrap_or_else(|e| panic!("{:?}: {e}", req.id()))
            .unwrap_or_else(|| panic!("{:?}: incomplete", req.id()));
        assert_eq!(used, bytes.len(), "{:?}", req.id());
        assert_eq!(back, req);
        // Any strict prefix is incomplete, never an error or a wrong request.
        for cut in 0..bytes.len() {
            assert_eq!(
                Request::parse(&bytes[..cut], PROTOCOL_VERSION, DEFAULT_MAX_PAYLOAD),
                Ok(None),
                "{:?} cut at {cut}",
                req.id()
            );
        }
    }
}

#[test]
fn protocol_3_submit_cmd2_has_no_syncobj_arrays() {
    let req = Request::SubmitCmd2(SubmitCmd2 {
        batches: vec![batch(vec![5; 4], 2, SUBMIT_CMD2_FLAG_RING_IDX)],
    });
    let bytes = req.encode(3);
    let (back, used) = Request::parse(&bytes, 3, DEFAULT_MAX_PAYLOAD)
        .unwrap()
        .unwrap();
    assert_eq!((back, used), (req, bytes.len()));
}

#[test]
fn fds_expected_counts_fd_bytes() {
    let reqs = every_request();
    let fds: usize = reqs.iter().map(Request::fds_expected).sum();
    // One IN_FENCE_FD batch, FD_TO_HANDLE and IMPORT_SYNC_FILE.
    assert_eq!(fds, 3);
}

#[test]
fn stream_of_all_requests_through_frame_decoder() {
    let reqs = every_request();
    let mut stream = Vec::new();
    for r in &reqs {
        stream.extend(r.encode(PROTOCOL_VERSION));
    }
    for chunk in [1usize, 3, 7, 64, 4096] {
        let mut d = FrameDecoder::default();
        d.set_protocol_version(PROTOCOL_VERSION);
        let mut got = Vec::new();
        for piece in stream.chunks(chunk) {
            d.feed(piece);
            while let Some(r) = d.next_request().unwrap() {
                got.push(r);
            }
        }
        assert_eq!(got, reqs, "chunk {chunk}");
        assert_eq!(d.buffered(), 0);
    }
}

#[test]
fn bytes_wanted_reads_exactly_to_frame_boundaries() {
    let reqs = every_request();
    let mut stream = Vec::new();
    for r in &reqs {
        stream.extend(r.encode(PROTOCOL_VERSION));
    }
    let mut d = FrameDecoder::default();
    d.set_protocol_version(PROTOCOL_VERSION);
    let mut pos = 0;
    let mut got = Vec::new();
    while pos < stream.len() {
        let want = d.bytes_wanted().unwrap();
        assert!(want > 0);
        let end = (pos + want).min(stream.len());
        d.feed(&stream[pos..end]);
        pos = end;
        if let Some(r) = d.next_request().unwrap() {
            got.push(r);
            assert_eq!(d.buffered(), 0, "bytes_wanted overshot a frame");
        }
    }
    assert_eq!(got, reqs);
}

#[test]
fn unknown_ids_and_caps_are_errors() {
    for cmd in [0u32, 39, 0xffff_ffff] {
        let h = Header { len: 0, cmd };
        assert_eq!(
            Request::parse(&h.to_bytes(), 4, DEFAULT_MAX_PAYLOAD),
            Err(ProtocolError::VtestUnknownCommand(cmd))
        );
    }
    let h = Header::new(VcmdId::CreateRenderer, (MAX_RENDERER_NAME + 1) as u32);
    assert!(matches!(
        Request::parse(&h.to_bytes(), 0, DEFAULT_MAX_PAYLOAD),
        Err(ProtocolError::VtestPayloadTooLarge { .. })
    ));
    let bad_wait = Header::new(VcmdId::SyncWait, 4);
    let mut bytes = bad_wait.to_bytes().to_vec();
    bytes.extend([0u8; 16]);
    assert!(matches!(
        Request::parse(&bytes, 3, DEFAULT_MAX_PAYLOAD),
        Err(ProtocolError::VtestMalformed { .. })
    ));
}

#[test]
fn fixed_size_commands_ignore_len() {
    // Upstream reads GET_CAPS at size 0 whatever len says; the next header follows directly.
    let mut bytes = Header::new(VcmdId::GetCaps, 5).to_bytes().to_vec();
    bytes.extend(Request::PingProtocolVersion.encode(0));
    let (first, used) = Request::parse(&bytes, 0, DEFAULT_MAX_PAYLOAD)
        .unwrap()
        .unwrap();
    assert_eq!((first, used), (Request::GetCaps, 8));
    let (second, _) = Request::parse(&bytes[used..], 0, DEFAULT_MAX_PAYLOAD)
        .unwrap()
        .unwrap();
    assert_eq!(second, Request::PingProtocolVersion);
}

fn every_reply() -> Vec<(VcmdId, Reply, usize)> {
    vec![
        (VcmdId::PingProtocolVersion, Reply::PingProtocolVersion, 0),
        (
            VcmdId::ProtocolVersion,
            Reply::ProtocolVersion { version: 3 },
            0,
        ),
        (
            VcmdId::GetCaps,
            Reply::Caps {
                capset: 1,
                caps: vec![3; 308],
            },
            0,
        ),
        (
            VcmdId::GetCaps2,
            Reply::Caps {
                capset: 2,
                caps: vec![4; 1408],
            },
            0,
        ),
        (VcmdId::ResourceBusyWait, Reply::BusyWait { busy: true }, 0),
        (
            VcmdId::ResourceCreate2,
            Reply::ResourceId {
                cmd: VcmdId::ResourceCreate2,
                res_id: 12,
            },
            0,
        ),
        (
            VcmdId::ResourceCreateBlob,
            Reply::ResourceId {
                cmd: VcmdId::ResourceCreateBlob,
                res_id: 13,
            },
            0,
        ),
        (
            VcmdId::GetParam,
            Reply::GetParam {
                valid: true,
                value: 64,
            },
            0,
        ),
        (VcmdId::GetCapset, Reply::GetCapset { caps: None }, 0),
        (
            VcmdId::GetCapset,
            Reply::GetCapset {
                caps: Some(vec![1, 2, 3, 4, 5, 6, 7, 8]),
            },
            0,
        ),
        (VcmdId::SyncCreate, Reply::SyncCreate { sync_id: 77 }, 0),
        (VcmdId::SyncRead, Reply::SyncRead { value: 1 << 40 | 3 }, 0),
        (VcmdId::SyncWait, Reply::SyncWait, 0),
        (VcmdId::ResourceExportFd, Reply::ResourceExportFd, 0),
        (VcmdId::DrmSyncCreate, Reply::DrmSyncCreate { handle: 3 }, 0),
        (VcmdId::DrmSyncHandleToFd, Reply::DrmSyncHandleToFd, 0),
        (
            VcmdId::DrmSyncFdToHandle,
            Reply::DrmSyncFdToHandle { handle: 4 },
            0,
        ),
        (
            VcmdId::DrmSyncExportSyncFile,
            Reply::DrmSyncExportSyncFile,
            0,
        ),
        (VcmdId::DrmSyncWait, Reply::DrmSyncWait { result: None }, 0),
        (
            VcmdId::DrmSyncTimelineWait,
            Reply::DrmSyncWait {
                result: Some((1, -62)),
            },
            0,
        ),
        (
            VcmdId::DrmSyncQuery,
            Reply::DrmSyncQuery {
                points: vec![1, u64::MAX],
            },
            2,
        ),
    ]
}

#[test]
fn every_reply_round_trips() {
    for (asked, reply, handles) in every_reply() {
        let bytes = reply.encode();
        let header = Header::from_bytes(&bytes).unwrap();
        let n = Reply::payload_size(asked, header, handles);
        assert_eq!(n, bytes.len() - HEADER_SIZE, "{asked:?}");
        assert_eq!(
            Reply::decode(asked, header, &bytes[HEADER_SIZE..]).unwrap(),
            reply
        );
    }
}

#[test]
fn reply_quirks_match_upstream() {
    // FD_TO_HANDLE answers with the HANDLE_TO_FD id.
    let b = Reply::DrmSyncFdToHandle { handle: 4 }.encode();
    assert_eq!(
        Header::from_bytes(&b).unwrap(),
        Header::new(VcmdId::DrmSyncHandleToFd, 1)
    );
    // GET_CAPS2 answers with id 2.
    let b = Reply::Caps {
        capset: 2,
        caps: vec![0; 4],
    }
    .encode();
    assert_eq!(Header::from_bytes(&b).unwrap(), Header { len: 5, cmd: 2 });
    // GET_CAPSET: len = 1 + caps dwords.
    let b = Reply::GetCapset {
        caps: Some(vec![0; 160]),
    }
    .encode();
    assert_eq!(
        Header::from_bytes(&b).unwrap(),
        Header::new(VcmdId::GetCapset, 41)
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_bytes_never_panic(
        bytes in proptest::collection::vec(any::<u8>(), 0..512),
        version in 0u32..5,
        chunk in 1usize..64,
    ) {
        let _ = Request::parse(&bytes, version, 4096);
        let mut d = FrameDecoder::new(4096);
        d.set_protocol_version(version);
        'outer: for piece in bytes.chunks(chunk) {
            d.feed(piece);
            loop {
                match d.next_request() {
                    Ok(Some(_)) => {}
                    Ok(None) => break,
                    Err(_) => break 'outer,
                }
            }
            let _ = d.bytes_wanted();
        }
    }

    #[test]
    fn random_payloads_behind_valid_headers_never_panic(
        cmd in 1u32..39,
        len in prop_oneof![0u32..64, any::<u32>()],
        body in proptest::collection::vec(any::<u8>(), 0..1024),
        version in 0u32..5,
    ) {
        let mut bytes = Header { len, cmd }.to_bytes().to_vec();
        bytes.extend(&body);
        if let Ok(Some((req, used))) = Request::parse(&bytes, version, 1 << 16) {
            prop_assert!(used <= bytes.len());
            prop_assert_eq!(req.id().raw(), cmd);
        }
        for asked in VcmdId::ALL {
            let _ = Reply::decode(*asked, Header { len, cmd }, &body);
        }
    }

    #[test]
    fn submit_cmd2_round_trips(
        batches in proptest::collection::vec(
            (proptest::collection::vec(any::<u32>(), 0..16), 0usize..4, 0u32..8, 0u32..64),
            0..6,
        ),
        version in 3u32..5,
    ) {
        let req = Request::SubmitCmd2(SubmitCmd2 {
            batches: batches
                .into_iter()
                .map(|(cmds, syncs, flags, ring)| SubmitBatch {
                    ring_idx: ring,
                    ..batch(cmds, syncs, flags)
                })
                .collect(),
        });
        let bytes = req.encode(version);
        let (back, used) = Request::parse(&bytes, version, DEFAULT_MAX_PAYLOAD).unwrap().unwrap();
        prop_assert_eq!(used, bytes.len());
        prop_assert_eq!(back, req);
    }

    #[test]
    fn transfer_put_round_trips(data in proptest::collection::vec(any::<u8>(), 0..300)) {
        let req = Request::TransferPut(TransferPut {
            transfer: Transfer { data_size: data.len() as u32, ..transfer() },
            data,
        });
        let bytes = req.encode(0);
        let (back, used) = Request::parse(&bytes, 0, DEFAULT_MAX_PAYLOAD).unwrap().unwrap();
        prop_assert_eq!(used, bytes.len());
        prop_assert_eq!(back, req);
    }
}
