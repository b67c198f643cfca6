//! The picture-description structs of `virgl_video_hw.h`, field for field.
//!
//! Each struct decodes from and encodes to the exact x86_64 C layout (see `crate::wire`).
//! Field names are the C names in snake case; where that changes a name, the field doc gives the
//! C spelling. Anonymous member structs get a name made of their parent's and their own.
//! Bitfield groups are structs holding the storage integer (`bits`) with one accessor pair per
//! field.

use crate::wire::{bitfields, wire_struct};

wire_struct! {
    /// `struct virgl_base_picture_desc`.
    pub struct BasePictureDesc {
        pub profile: u16,
        pub entry_point: u8,
        pub protected_playback: u8,
        pub decrypt_key: [u8; 256],
        pub key_size: u32,
    }
}

wire_struct! {
    /// `struct virgl_enc_quality_modes`.
    pub struct EncQualityModes {
        pub level: u32,
        pub preset_mode: u32,
        pub pre_encode_mode: u32,
        pub vbaq_mode: u32,
    }
}

wire_struct! {
    /// `struct virgl_h264_sps`.
    pub struct H264Sps {
        pub level_idc: u8,
        pub chroma_format_idc: u8,
        pub separate_colour_plane_flag: u8,
        pub bit_depth_luma_minus8: u8,
        pub bit_depth_chroma_minus8: u8,
        pub seq_scaling_matrix_present_flag: u8,
        /// C: `ScalingList4x4`.
        pub scaling_list4x4: [[u8; 16]; 6],
        /// C: `ScalingList8x8`.
        pub scaling_list8x8: [[u8; 64]; 6],
        pub log2_max_frame_num_minus4: u8,
        pub pic_order_cnt_type: u8,
        pub log2_max_pic_order_cnt_lsb_minus4: u8,
        pub delta_pic_order_always_zero_flag: u8,
        pub offset_for_non_ref_pic: i32,
        pub offset_for_top_to_bottom_field: i32,
        pub offset_for_ref_frame: [i32; 256],
        pub num_ref_frames_in_pic_order_cnt_cycle: u8,
        pub max_num_ref_frames: u8,
        pub frame_mbs_only_flag: u8,
        pub mb_adaptive_frame_field_flag: u8,
        pub direct_8x8_inference_flag: u8,
        /// C: `MinLumaBiPredSize8x8`.
        pub min_luma_bi_pred_size8x8: u8,
        pub reserved: [u8; 2],
    }
}

wire_struct! {
    /// `struct virgl_h264_pps`.
    pub struct H264Pps {
        pub sps: H264Sps,
        pub entropy_coding_mode_flag: u8,
        pub bottom_field_pic_order_in_frame_present_flag: u8,
        pub num_slice_groups_minus1: u8,
        pub slice_group_map_type: u8,
        pub slice_group_change_rate_minus1: u8,
        pub num_ref_idx_l0_default_active_minus1: u8,
        pub num_ref_idx_l1_default_active_minus1: u8,
        pub weighted_pred_flag: u8,
        pub weighted_bipred_idc: u8,
        pub pic_init_qp_minus26: i8,
        pub pic_init_qs_minus26: i8,
        pub chroma_qp_index_offset: i8,
        pub deblocking_filter_control_present_flag: u8,
        pub constrained_intra_pred_flag: u8,
        pub redundant_pic_cnt_present_flag: u8,
        pub transform_8x8_mode_flag: u8,
        /// C: `ScalingList4x4`.
        pub scaling_list4x4: [[u8; 16]; 6],
        /// C: `ScalingList8x8`.
        pub scaling_list8x8: [[u8; 64]; 6],
        pub second_chroma_qp_index_offset: i8,
        pub reserved: [u8; 3],
    }
}

wire_struct! {
    /// `struct virgl_h264_picture_desc`.
    pub struct H264PictureDesc {
        pub base: BasePictureDesc,
        pub pps: H264Pps,
        pub frame_num: u32,
        pub field_pic_flag: u8,
        pub bottom_field_flag: u8,
        pub num_ref_idx_l0_active_minus1: u8,
        pub num_ref_idx_l1_active_minus1: u8,
        pub slice_count: u32,
        pub field_order_cnt: [i32; 2],
        pub is_long_term: [u8; 16],
        pub top_is_reference: [u8; 16],
        pub bottom_is_reference: [u8; 16],
        pub field_order_cnt_list: [[u32; 2]; 16],
        pub frame_num_list: [u32; 16],
        pub buffer_id: [u32; 16],
        pub is_reference: u8,
        pub num_ref_frames: u8,
        pub reserved: [u8; 2],
    }
}

wire_struct! {
    /// A C bitfield group; read it through the accessors.
    pub struct H264EncSeqParamVuiFlags {
        pub bits: u32,
    }
}

bitfields!(H264EncSeqParamVuiFlags {
    bits.aspect_ratio_info_present_flag / set_aspect_ratio_info_present_flag: 0, 1;
    bits.timing_info_present_flag / set_timing_info_present_flag: 1, 1;
});

wire_struct! {
    /// `struct virgl_h264_enc_seq_param`.
    pub struct H264EncSeqParam {
        pub enc_constraint_set_flags: u32,
        pub enc_frame_cropping_flag: u32,
        pub enc_frame_crop_left_offset: u32,
        pub enc_frame_crop_right_offset: u32,
        pub enc_frame_crop_top_offset: u32,
        pub enc_frame_crop_bottom_offset: u32,
        pub pic_order_cnt_type: u32,
        pub num_temporal_layers: u32,
        pub vui_parameters_present_flag: u32,
        pub vui_flags: H264EncSeqParamVuiFlags,
        pub aspect_ratio_idc: u32,
        pub sar_width: u32,
        pub sar_height: u32,
        pub num_units_in_tick: u32,
        pub time_scale: u32,
    }
}

wire_struct! {
    /// `struct virgl_h264_enc_rate_control`.
    pub struct H264EncRateControl {
        pub target_bitrate: u32,
        pub peak_bitrate: u32,
        pub frame_rate_num: u32,
        pub frame_rate_den: u32,
        pub vbv_buffer_size: u32,
        pub vbv_buf_lv: u32,
        pub target_bits_picture: u32,
        pub peak_bits_picture_integer: u32,
        pub peak_bits_picture_fraction: u32,
        pub fill_data_enable: u32,
        pub skip_frame_enable: u32,
        pub enforce_hrd: u32,
        pub max_au_size: u32,
        pub max_qp: u32,
        pub min_qp: u32,
        pub rate_ctrl_method: u8,
        pub reserved: [u8; 3],
    }
}

wire_struct! {
    /// `struct virgl_h264_enc_motion_estimation`.
    pub struct H264EncMotionEstimation {
        pub motion_est_quarter_pixel: u32,
        pub enc_disable_sub_mode: u32,
        pub lsmvert: u32,
        pub enc_en_ime_overw_dis_subm: u32,
        pub enc_ime_overw_dis_subm_no: u32,
        pub enc_ime2_search_range_x: u32,
        pub enc_ime2_search_range_y: u32,
    }
}

wire_struct! {
    /// `struct virgl_h264_enc_pic_control`.
    pub struct H264EncPicControl {
        pub enc_cabac_enable: u32,
        pub enc_cabac_init_idc: u32,
    }
}

wire_struct! {
    /// `struct virgl_h264_slice_descriptor`.
    pub struct H264SliceDescriptor {
        pub macroblock_address: u32,
        pub num_macroblocks: u32,
        pub slice_type: u8,
        pub reserved: [u8; 3],
    }
}

wire_struct! {
    /// `struct virgl_h264_enc_picture_desc`.
    pub struct H264EncPictureDesc {
        pub base: BasePictureDesc,
        pub seq: H264EncSeqParam,
        pub rate_ctrl: [H264EncRateControl; 4],
        pub motion_est: H264EncMotionEstimation,
        pub pic_ctrl: H264EncPicControl,
        pub intra_idr_period: u32,
        pub quant_i_frames: u32,
        pub quant_p_frames: u32,
        pub quant_b_frames: u32,
        pub frame_num: u32,
        pub frame_num_cnt: u32,
        pub p_remain: u32,
        pub i_remain: u32,
        pub idr_pic_id: u32,
        pub gop_cnt: u32,
        pub pic_order_cnt: u32,
        pub num_ref_idx_l0_active_minus1: u32,
        pub num_ref_idx_l1_active_minus1: u32,
        pub ref_idx_l0_list: [u32; 32],
        pub l0_is_long_term: [u8; 32],
        pub ref_idx_l1_list: [u32; 32],
        pub l1_is_long_term: [u8; 32],
        pub gop_size: u32,
        pub quality_modes: EncQualityModes,
        pub num_slice_descriptors: u32,
        pub slices_descriptors: [H264SliceDescriptor; 128],
        pub picture_type: u8,
        pub not_referenced: u8,
        pub is_ltr: u8,
        pub enable_vui: u8,
        pub ltr_index: u32,
    }
}

wire_struct! {
    /// `struct virgl_h265_sps`.
    pub struct H265Sps {
        pub pic_width_in_luma_samples: u32,
        pub pic_height_in_luma_samples: u32,
        pub chroma_format_idc: u8,
        pub separate_colour_plane_flag: u8,
        pub bit_depth_luma_minus8: u8,
        pub bit_depth_chroma_minus8: u8,
        pub log2_max_pic_order_cnt_lsb_minus4: u8,
        pub sps_max_dec_pic_buffering_minus1: u8,
        pub log2_min_luma_coding_block_size_minus3: u8,
        pub log2_diff_max_min_luma_coding_block_size: u8,
        pub log2_min_transform_block_size_minus2: u8,
        pub log2_diff_max_min_transform_block_size: u8,
        pub max_transform_hierarchy_depth_inter: u8,
        pub max_transform_hierarchy_depth_intra: u8,
        /// C: `ScalingList4x4`.
        pub scaling_list4x4: [[u8; 16]; 6],
        /// C: `ScalingList8x8`.
        pub scaling_list8x8: [[u8; 64]; 6],
        /// C: `ScalingList16x16`.
        pub scaling_list16x16: [[u8; 64]; 6],
        /// C: `ScalingList32x32`.
        pub scaling_list32x32: [[u8; 64]; 2],
        /// C: `ScalingListDCCoeff16x16`.
        pub scaling_list_dc_coeff16x16: [u8; 6],
        /// C: `ScalingListDCCoeff32x32`.
        pub scaling_list_dc_coeff32x32: [u8; 2],
        pub scaling_list_enabled_flag: u8,
        pub amp_enabled_flag: u8,
        pub sample_adaptive_offset_enabled_flag: u8,
        pub pcm_enabled_flag: u8,
        pub pcm_sample_bit_depth_luma_minus1: u8,
        pub pcm_sample_bit_depth_chroma_minus1: u8,
        pub log2_min_pcm_luma_coding_block_size_minus3: u8,
        pub log2_diff_max_min_pcm_luma_coding_block_size: u8,
        pub pcm_loop_filter_disabled_flag: u8,
        pub num_short_term_ref_pic_sets: u8,
        pub long_term_ref_pics_present_flag: u8,
        pub num_long_term_ref_pics_sps: u8,
        pub sps_temporal_mvp_enabled_flag: u8,
        pub strong_intra_smoothing_enabled_flag: u8,
        pub reserved: [u8; 2],
    }
}

wire_struct! {
    /// `struct virgl_h265_pps`.
    pub struct H265Pps {
        pub sps: H265Sps,
        pub dependent_slice_segments_enabled_flag: u8,
        pub output_flag_present_flag: u8,
        pub num_extra_slice_header_bits: u8,
        pub sign_data_hiding_enabled_flag: u8,
        pub cabac_init_present_flag: u8,
        pub num_ref_idx_l0_default_active_minus1: u8,
        pub num_ref_idx_l1_default_active_minus1: u8,
        pub init_qp_minus26: i8,
        pub constrained_intra_pred_flag: u8,
        pub transform_skip_enabled_flag: u8,
        pub cu_qp_delta_enabled_flag: u8,
        pub diff_cu_qp_delta_depth: u8,
        pub pps_cb_qp_offset: i8,
        pub pps_cr_qp_offset: i8,
        pub pps_slice_chroma_qp_offsets_present_flag: u8,
        pub weighted_pred_flag: u8,
        pub weighted_bipred_flag: u8,
        pub transquant_bypass_enabled_flag: u8,
        pub tiles_enabled_flag: u8,
        pub entropy_coding_sync_enabled_flag: u8,
        pub column_width_minus1: [u16; 20],
        pub row_height_minus1: [u16; 22],
        pub num_tile_columns_minus1: u8,
        pub num_tile_rows_minus1: u8,
        pub uniform_spacing_flag: u8,
        pub loop_filter_across_tiles_enabled_flag: u8,
        pub pps_loop_filter_across_slices_enabled_flag: u8,
        pub deblocking_filter_control_present_flag: u8,
        pub deblocking_filter_override_enabled_flag: u8,
        pub pps_deblocking_filter_disabled_flag: u8,
        pub pps_beta_offset_div2: i8,
        pub pps_tc_offset_div2: i8,
        pub lists_modification_present_flag: u8,
        pub log2_parallel_merge_level_minus2: u8,
        pub st_rps_bits: u16,
        pub slice_segment_header_extension_present_flag: u8,
        pub reserved: u8,
    }
}

wire_struct! {
    /// `struct virgl_h265_picture_desc`.
    pub struct H265PictureDesc {
        pub base: BasePictureDesc,
        pub pps: H265Pps,
        /// C: `CurrPicOrderCntVal`.
        pub curr_pic_order_cnt_val: i32,
        pub r#ref: [u32; 16],
        /// C: `PicOrderCntVal`.
        pub pic_order_cnt_val: [i32; 16],
        /// C: `NumPocTotalCurr`.
        pub num_poc_total_curr: u32,
        /// C: `NumDeltaPocsOfRefRpsIdx`.
        pub num_delta_pocs_of_ref_rps_idx: u32,
        /// C: `NumShortTermPictureSliceHeaderBits`.
        pub num_short_term_picture_slice_header_bits: u32,
        /// C: `NumLongTermPictureSliceHeaderBits`.
        pub num_long_term_picture_slice_header_bits: u32,
        /// C: `IsLongTerm`.
        pub is_long_term: [u8; 16],
        /// C: `IDRPicFlag`.
        pub idr_pic_flag: u8,
        /// C: `RAPPicFlag`.
        pub rap_pic_flag: u8,
        /// C: `CurrRpsIdx`.
        pub curr_rps_idx: u8,
        /// C: `NumPocStCurrBefore`.
        pub num_poc_st_curr_before: u8,
        /// C: `NumPocStCurrAfter`.
        pub num_poc_st_curr_after: u8,
        /// C: `NumPocLtCurr`.
        pub num_poc_lt_curr: u8,
        /// C: `UseRefPicList`.
        pub use_ref_pic_list: u8,
        /// C: `UseStRpsBits`.
        pub use_st_rps_bits: u8,
        /// C: `RefPicSetStCurrBefore`.
        pub ref_pic_set_st_curr_before: [u8; 8],
        /// C: `RefPicSetStCurrAfter`.
        pub ref_pic_set_st_curr_after: [u8; 8],
        /// C: `RefPicSetLtCurr`.
        pub ref_pic_set_lt_curr: [u8; 8],
        /// C: `RefPicList`.
        pub ref_pic_list: [[u8; 15]; 2],
        pub reserved: [u8; 2],
    }
}

wire_struct! {
    /// A C bitfield group; read it through the accessors.
    pub struct H265EncSeqParamVuiFlags {
        pub bits: u32,
    }
}

bitfields!(H265EncSeqParamVuiFlags {
    bits.aspect_ratio_info_present_flag / set_aspect_ratio_info_present_flag: 0, 1;
    bits.timing_info_present_flag / set_timing_info_present_flag: 1, 1;
});

wire_struct! {
    /// `struct virgl_h265_enc_seq_param`.
    pub struct H265EncSeqParam {
        pub general_profile_idc: u8,
        pub general_level_idc: u8,
        pub general_tier_flag: u8,
        pub strong_intra_smoothing_enabled_flag: u8,
        pub intra_period: u32,
        pub ip_period: u32,
        pub pic_width_in_luma_samples: u16,
        pub pic_height_in_luma_samples: u16,
        pub chroma_format_idc: u32,
        pub bit_depth_luma_minus8: u32,
        pub bit_depth_chroma_minus8: u32,
        pub amp_enabled_flag: u8,
        pub sample_adaptive_offset_enabled_flag: u8,
        pub pcm_enabled_flag: u8,
        pub sps_temporal_mvp_enabled_flag: u8,
        pub log2_min_luma_coding_block_size_minus3: u8,
        pub log2_diff_max_min_luma_coding_block_size: u8,
        pub log2_min_transform_block_size_minus2: u8,
        pub log2_diff_max_min_transform_block_size: u8,
        pub conf_win_left_offset: u16,
        pub conf_win_right_offset: u16,
        pub conf_win_top_offset: u16,
        pub conf_win_bottom_offset: u16,
        pub vui_parameters_present_flag: u32,
        pub vui_flags: H265EncSeqParamVuiFlags,
        pub aspect_ratio_idc: u32,
        pub sar_width: u32,
        pub sar_height: u32,
        pub num_units_in_tick: u32,
        pub time_scale: u32,
        pub max_transform_hierarchy_depth_inter: u8,
        pub max_transform_hierarchy_depth_intra: u8,
        pub conformance_window_flag: u8,
        pub reserved: u8,
    }
}

wire_struct! {
    /// `struct virgl_h265_enc_pic_param`.
    pub struct H265EncPicParam {
        pub log2_parallel_merge_level_minus2: u8,
        pub nal_unit_type: u8,
        pub constrained_intra_pred_flag: u8,
        pub pps_loop_filter_across_slices_enabled_flag: u8,
        pub transform_skip_enabled_flag: u8,
        pub reserved: [u8; 3],
    }
}

wire_struct! {
    /// `struct virgl_h265_enc_slice_param`.
    pub struct H265EncSliceParam {
        pub max_num_merge_cand: u8,
        pub slice_cb_qp_offset: i8,
        pub slice_cr_qp_offset: i8,
        pub slice_beta_offset_div2: i8,
        pub slice_deblocking_filter_disabled_flag: u32,
        pub slice_tc_offset_div2: i8,
        pub cabac_init_flag: u8,
        pub slice_loop_filter_across_slices_enabled_flag: u8,
        pub reserved: u8,
    }
}

wire_struct! {
    /// `struct virgl_h265_enc_rate_control`.
    pub struct H265EncRateControl {
        pub target_bitrate: u32,
        pub peak_bitrate: u32,
        pub frame_rate_num: u32,
        pub frame_rate_den: u32,
        pub quant_i_frames: u32,
        pub quant_p_frames: u32,
        pub quant_b_frames: u32,
        pub vbv_buffer_size: u32,
        pub vbv_buf_lv: u32,
        pub target_bits_picture: u32,
        pub peak_bits_picture_integer: u32,
        pub peak_bits_picture_fraction: u32,
        pub fill_data_enable: u32,
        pub skip_frame_enable: u32,
        pub enforce_hrd: u32,
        pub max_au_size: u32,
        pub max_qp: u32,
        pub min_qp: u32,
        pub rate_ctrl_method: u8,
        pub reserved: [u8; 3],
    }
}

wire_struct! {
    /// `struct virgl_h265_slice_descriptor`.
    pub struct H265SliceDescriptor {
        pub slice_segment_address: u32,
        pub num_ctu_in_slice: u32,
        pub slice_type: u8,
        pub reserved: [u8; 3],
    }
}

wire_struct! {
    /// `struct virgl_h265_enc_picture_desc`.
    pub struct H265EncPictureDesc {
        pub base: BasePictureDesc,
        pub seq: H265EncSeqParam,
        pub pic: H265EncPicParam,
        pub slice: H265EncSliceParam,
        pub rc: H265EncRateControl,
        pub decoded_curr_pic: u32,
        pub reference_frames: [u32; 16],
        pub frame_num: u32,
        pub pic_order_cnt: u32,
        pub pic_order_cnt_type: u32,
        pub num_ref_idx_l0_active_minus1: u32,
        pub num_ref_idx_l1_active_minus1: u32,
        pub ref_idx_l0_list: [u32; 15],
        pub ref_idx_l1_list: [u32; 15],
        pub num_slice_descriptors: u32,
        pub slices_descriptors: [H265SliceDescriptor; 128],
        pub quality_modes: EncQualityModes,
        pub picture_type: u8,
        pub not_referenced: u8,
        pub reserved: [u8; 2],
    }
}

wire_struct! {
    /// `struct virgl_mpeg4_picture_desc`.
    pub struct Mpeg4PictureDesc {
        pub base: BasePictureDesc,
        pub trd: [i32; 2],
        pub trb: [i32; 2],
        pub vop_time_increment_resolution: u16,
        pub vop_coding_type: u8,
        pub vop_fcode_forward: u8,
        pub vop_fcode_backward: u8,
        pub resync_marker_disable: u8,
        pub interlaced: u8,
        pub quant_type: u8,
        pub quarter_sample: u8,
        pub short_video_header: u8,
        pub rounding_control: u8,
        pub alternate_vertical_scan_flag: u8,
        pub top_field_first: u8,
        pub intra_matrix: [u8; 64],
        pub non_intra_matrix: [u8; 64],
        pub r#ref: [u32; 2],
    }
}

wire_struct! {
    /// `struct virgl_mpeg12_picture_desc`.
    pub struct Mpeg12PictureDesc {
        pub base: BasePictureDesc,
        pub picture_coding_type: u32,
        pub picture_structure: u32,
        pub frame_pred_frame_dct: u32,
        pub q_scale_type: u32,
        pub alternate_scan: u32,
        pub intra_vlc_format: u32,
        pub concealment_motion_vectors: u32,
        pub intra_dc_precision: u32,
        pub f_code: [[u32; 2]; 2],
        pub top_field_first: u32,
        pub full_pel_forward_vector: u32,
        pub full_pel_backward_vector: u32,
        pub num_slices: u32,
        pub intra_matrix: [u8; 64],
        pub non_intra_matrix: [u8; 64],
        pub r#ref: [u32; 2],
    }
}

wire_struct! {
    /// An anonymous member struct of the C definition.
    pub struct MjpegPictureParameterComponents {
        pub component_id: u8,
        pub h_sampling_factor: u8,
        pub v_sampling_factor: u8,
        pub quantiser_table_selector: u8,
    }
}

wire_struct! {
    /// An anonymous member struct of the C definition.
    pub struct MjpegPictureParameter {
        pub picture_width: u16,
        pub picture_height: u16,
        pub components: [MjpegPictureParameterComponents; 255],
        pub crop_x: u16,
        pub crop_y: u16,
        pub crop_width: u16,
        pub crop_height: u16,
        pub num_components: u8,
    }
}

wire_struct! {
    /// An anonymous member struct of the C definition.
    pub struct MjpegQuantizationTable {
        pub load_quantiser_table: [u8; 4],
        pub quantiser_table: [[u8; 64]; 4],
    }
}

wire_struct! {
    /// An anonymous member struct of the C definition.
    pub struct MjpegHuffmanTableTable {
        pub num_dc_codes: [u8; 16],
        pub dc_values: [u8; 12],
        pub num_ac_codes: [u8; 16],
        pub ac_values: [u8; 162],
        pub pad: [u8; 2],
    }
}

wire_struct! {
    /// An anonymous member struct of the C definition.
    pub struct MjpegHuffmanTable {
        pub load_huffman_table: [u8; 2],
        pub table: [MjpegHuffmanTableTable; 2],
    }
}

wire_struct! {
    /// An anonymous member struct of the C definition.
    pub struct MjpegSliceParameterComponents {
        pub component_selector: u8,
        pub dc_table_selector: u8,
        pub ac_table_selector: u8,
    }
}

wire_struct! {
    /// An anonymous member struct of the C definition.
    pub struct MjpegSliceParameter {
        pub slice_data_size: u32,
        pub slice_data_offset: u32,
        pub slice_data_flag: u32,
        pub slice_horizontal_position: u32,
        pub slice_vertical_position: u32,
        pub components: [MjpegSliceParameterComponents; 4],
        pub num_components: u8,
        pub restart_interval: u16,
        pub num_mcus: u32,
    }
}

wire_struct! {
    /// `struct virgl_mjpeg_picture_desc`.
    pub struct MjpegPictureDesc {
        pub base: BasePictureDesc,
        pub picture_parameter: MjpegPictureParameter,
        pub quantization_table: MjpegQuantizationTable,
        pub huffman_table: MjpegHuffmanTable,
        pub slice_parameter: MjpegSliceParameter,
    }
}

wire_struct! {
    /// `struct virgl_vc1_picture_desc`.
    pub struct Vc1PictureDesc {
        pub base: BasePictureDesc,
        pub slice_count: u32,
        pub picture_type: u8,
        pub frame_coding_mode: u8,
        pub postprocflag: u8,
        pub pulldown: u8,
        pub interlace: u8,
        pub tfcntrflag: u8,
        pub finterpflag: u8,
        pub psf: u8,
        pub dquant: u8,
        pub panscan_flag: u8,
        pub refdist_flag: u8,
        pub quantizer: u8,
        pub extended_mv: u8,
        pub extended_dmv: u8,
        pub overlap: u8,
        pub vstransform: u8,
        pub loopfilter: u8,
        pub fastuvmc: u8,
        pub range_mapy_flag: u8,
        pub range_mapy: u8,
        pub range_mapuv_flag: u8,
        pub range_mapuv: u8,
        pub multires: u8,
        pub syncmarker: u8,
        pub rangered: u8,
        pub maxbframes: u8,
        /// C: `deblockEnable`.
        pub deblock_enable: u8,
        pub pquant: u8,
        pub r#ref: [u32; 2],
    }
}

wire_struct! {
    /// A C bitfield group; read it through the accessors.
    pub struct Vp9SegmentParameterSegmentFlags {
        pub bits: u16,
    }
}

bitfields!(Vp9SegmentParameterSegmentFlags {
    bits.segment_reference_enabled / set_segment_reference_enabled: 0, 1;
    bits.segment_reference / set_segment_reference: 1, 2;
    bits.segment_reference_skipped / set_segment_reference_skipped: 3, 1;
});

wire_struct! {
    /// `struct virgl_vp9_segment_parameter`.
    pub struct Vp9SegmentParameter {
        pub segment_flags: Vp9SegmentParameterSegmentFlags,
        pub filter_level: [[u8; 2]; 4],
        pub luma_ac_quant_scale: i16,
        pub luma_dc_quant_scale: i16,
        pub chroma_ac_quant_scale: i16,
        pub chroma_dc_quant_scale: i16,
    }
}

wire_struct! {
    /// A C bitfield group; read it through the accessors.
    pub struct Vp9PictureParameterPicFields {
        pub bits: u32,
    }
}

bitfields!(Vp9PictureParameterPicFields {
    bits.subsampling_x / set_subsampling_x: 0, 1;
    bits.subsampling_y / set_subsampling_y: 1, 1;
    bits.frame_type / set_frame_type: 2, 1;
    bits.show_frame / set_show_frame: 3, 1;
    bits.error_resilient_mode / set_error_resilient_mode: 4, 1;
    bits.intra_only / set_intra_only: 5, 1;
    bits.allow_high_precision_mv / set_allow_high_precision_mv: 6, 1;
    bits.mcomp_filter_type / set_mcomp_filter_type: 7, 3;
    bits.frame_parallel_decoding_mode / set_frame_parallel_decoding_mode: 10, 1;
    bits.reset_frame_context / set_reset_frame_context: 11, 2;
    bits.refresh_frame_context / set_refresh_frame_context: 13, 1;
    bits.frame_context_idx / set_frame_context_idx: 14, 2;
    bits.segmentation_enabled / set_segmentation_enabled: 16, 1;
    bits.segmentation_temporal_update / set_segmentation_temporal_update: 17, 1;
    bits.segmentation_update_map / set_segmentation_update_map: 18, 1;
    bits.last_ref_frame / set_last_ref_frame: 19, 3;
    bits.last_ref_frame_sign_bias / set_last_ref_frame_sign_bias: 22, 1;
    bits.golden_ref_frame / set_golden_ref_frame: 23, 3;
    bits.golden_ref_frame_sign_bias / set_golden_ref_frame_sign_bias: 26, 1;
    bits.alt_ref_frame / set_alt_ref_frame: 27, 3;
    bits.alt_ref_frame_sign_bias / set_alt_ref_frame_sign_bias: 30, 1;
    bits.lossless_flag / set_lossless_flag: 31, 1;
});

wire_struct! {
    /// An anonymous member struct of the C definition.
    pub struct Vp9PictureParameter {
        pub frame_width: u16,
        pub frame_height: u16,
        pub pic_fields: Vp9PictureParameterPicFields,
        pub filter_level: u8,
        pub sharpness_level: u8,
        pub log2_tile_rows: u8,
        pub log2_tile_columns: u8,
        pub frame_header_length_in_bytes: u8,
        pub first_partition_size: u16,
        pub mb_segment_tree_probs: [u8; 7],
        pub segment_pred_probs: [u8; 3],
        pub profile: u8,
        pub bit_depth: u8,
        pub mode_ref_delta_enabled: bool,
        pub mode_ref_delta_update: bool,
        pub base_qindex: u8,
        pub y_dc_delta_q: i8,
        pub uv_ac_delta_q: i8,
        pub uv_dc_delta_q: i8,
        pub abs_delta: u8,
        pub ref_deltas: [u8; 4],
        pub mode_deltas: [u8; 2],
    }
}

wire_struct! {
    /// An anonymous member struct of the C definition.
    pub struct Vp9SliceParameter {
        pub slice_data_size: u32,
        pub slice_data_offset: u32,
        pub slice_data_flag: u32,
        pub seg_param: [Vp9SegmentParameter; 8],
    }
}

wire_struct! {
    /// `struct virgl_vp9_picture_desc`.
    pub struct Vp9PictureDesc {
        pub base: BasePictureDesc,
        pub r#ref: [u32; 16],
        pub picture_parameter: Vp9PictureParameter,
        pub slice_parameter: Vp9SliceParameter,
    }
}

wire_struct! {
    /// A C bitfield group; read it through the accessors.
    pub struct Av1PictureParameterSeqInfoFields {
        pub bits: u32,
    }
}

bitfields!(Av1PictureParameterSeqInfoFields {
    bits.use_128x128_superblock / set_use_128x128_superblock: 0, 1;
    bits.enable_filter_intra / set_enable_filter_intra: 1, 1;
    bits.enable_intra_edge_filter / set_enable_intra_edge_filter: 2, 1;
    bits.enable_interintra_compound / set_enable_interintra_compound: 3, 1;
    bits.enable_masked_compound / set_enable_masked_compound: 4, 1;
    bits.enable_dual_filter / set_enable_dual_filter: 5, 1;
    bits.enable_order_hint / set_enable_order_hint: 6, 1;
    bits.enable_jnt_comp / set_enable_jnt_comp: 7, 1;
    bits.enable_cdef / set_enable_cdef: 8, 1;
    bits.mono_chrome / set_mono_chrome: 9, 1;
    bits.ref_frame_mvs / set_ref_frame_mvs: 10, 1;
    bits.film_grain_params_present / set_film_grain_params_present: 11, 1;
});

wire_struct! {
    /// A C bitfield group; read it through the accessors.
    pub struct Av1PictureParameterSegInfoSegmentInfoFields {
        pub bits: u32,
    }
}

bitfields!(Av1PictureParameterSegInfoSegmentInfoFields {
    bits.enabled / set_enabled: 0, 1;
    bits.update_map / set_update_map: 1, 1;
    bits.update_data / set_update_data: 2, 1;
    bits.temporal_update / set_temporal_update: 3, 1;
});

wire_struct! {
    /// An anonymous member struct of the C definition.
    pub struct Av1PictureParameterSegInfo {
        pub segment_info_fields: Av1PictureParameterSegInfoSegmentInfoFields,
        pub feature_data: [[i16; 8]; 8],
        pub feature_mask: [u8; 8],
    }
}

wire_struct! {
    /// A C bitfield group; read it through the accessors.
    pub struct Av1PictureParameterFilmGrainInfoFilmGrainInfoFields {
        pub bits: u32,
    }
}

bitfields!(Av1PictureParameterFilmGrainInfoFilmGrainInfoFields {
    bits.apply_grain / set_apply_grain: 0, 1;
    bits.chroma_scaling_from_luma / set_chroma_scaling_from_luma: 1, 1;
    bits.grain_scaling_minus_8 / set_grain_scaling_minus_8: 2, 2;
    bits.ar_coeff_lag / set_ar_coeff_lag: 4, 2;
    bits.ar_coeff_shift_minus_6 / set_ar_coeff_shift_minus_6: 6, 2;
    bits.grain_scale_shift / set_grain_scale_shift: 8, 2;
    bits.overlap_flag / set_overlap_flag: 10, 1;
    bits.clip_to_restricted_range / set_clip_to_restricted_range: 11, 1;
});

wire_struct! {
    /// An anonymous member struct of the C definition.
    pub struct Av1PictureParameterFilmGrainInfo {
        pub film_grain_info_fields: Av1PictureParameterFilmGrainInfoFilmGrainInfoFields,
        pub grain_seed: u16,
        pub num_y_points: u8,
        pub point_y_value: [u8; 14],
        pub point_y_scaling: [u8; 14],
        pub num_cb_points: u8,
        pub point_cb_value: [u8; 10],
        pub point_cb_scaling: [u8; 10],
        pub num_cr_points: u8,
        pub point_cr_value: [u8; 10],
        pub point_cr_scaling: [u8; 10],
        pub ar_coeffs_y: [i8; 24],
        pub ar_coeffs_cb: [i8; 25],
        pub ar_coeffs_cr: [i8; 25],
        pub cb_mult: u8,
        pub cb_luma_mult: u8,
        pub cb_offset: u16,
        pub cr_mult: u8,
        pub cr_luma_mult: u8,
        pub cr_offset: u16,
    }
}

wire_struct! {
    /// A C bitfield group; read it through the accessors.
    pub struct Av1PictureParameterPicInfoFields {
        pub bits: u32,
    }
}

bitfields!(Av1PictureParameterPicInfoFields {
    bits.frame_type / set_frame_type: 0, 2;
    bits.show_frame / set_show_frame: 2, 1;
    bits.showable_frame / set_showable_frame: 3, 1;
    bits.error_resilient_mode / set_error_resilient_mode: 4, 1;
    bits.disable_cdf_update / set_disable_cdf_update: 5, 1;
    bits.allow_screen_content_tools / set_allow_screen_content_tools: 6, 1;
    bits.force_integer_mv / set_force_integer_mv: 7, 1;
    bits.allow_intrabc / set_allow_intrabc: 8, 1;
    bits.use_superres / set_use_superres: 9, 1;
    bits.allow_high_precision_mv / set_allow_high_precision_mv: 10, 1;
    bits.is_motion_mode_switchable / set_is_motion_mode_switchable: 11, 1;
    bits.use_ref_frame_mvs / set_use_ref_frame_mvs: 12, 1;
    bits.disable_frame_end_update_cdf / set_disable_frame_end_update_cdf: 13, 1;
    bits.uniform_tile_spacing_flag / set_uniform_tile_spacing_flag: 14, 1;
    bits.allow_warped_motion / set_allow_warped_motion: 15, 1;
    bits.large_scale_tile / set_large_scale_tile: 16, 1;
});

wire_struct! {
    /// A C bitfield group; read it through the accessors.
    pub struct Av1PictureParameterLoopFilterInfoFields {
        pub bits: u8,
    }
}

bitfields!(Av1PictureParameterLoopFilterInfoFields {
    bits.sharpness_level / set_sharpness_level: 0, 3;
    bits.mode_ref_delta_enabled / set_mode_ref_delta_enabled: 3, 1;
    bits.mode_ref_delta_update / set_mode_ref_delta_update: 4, 1;
});

wire_struct! {
    /// A C bitfield group; read it through the accessors.
    pub struct Av1PictureParameterQmatrixFields {
        pub bits: u16,
    }
}

bitfields!(Av1PictureParameterQmatrixFields {
    bits.using_qmatrix / set_using_qmatrix: 0, 1;
    bits.qm_y / set_qm_y: 1, 4;
    bits.qm_u / set_qm_u: 5, 4;
    bits.qm_v / set_qm_v: 9, 4;
});

wire_struct! {
    /// A C bitfield group; read it through the accessors.
    pub struct Av1PictureParameterModeControlFields {
        pub bits: u32,
    }
}

bitfields!(Av1PictureParameterModeControlFields {
    bits.delta_q_present_flag / set_delta_q_present_flag: 0, 1;
    bits.log2_delta_q_res / set_log2_delta_q_res: 1, 2;
    bits.delta_lf_present_flag / set_delta_lf_present_flag: 3, 1;
    bits.log2_delta_lf_res / set_log2_delta_lf_res: 4, 2;
    bits.delta_lf_multi / set_delta_lf_multi: 6, 1;
    bits.tx_mode / set_tx_mode: 7, 2;
    bits.reference_select / set_reference_select: 9, 1;
    bits.reduced_tx_set_used / set_reduced_tx_set_used: 10, 1;
    bits.skip_mode_present / set_skip_mode_present: 11, 1;
});

wire_struct! {
    /// A C bitfield group; read it through the accessors.
    pub struct Av1PictureParameterLoopRestorationFields {
        pub bits: u16,
    }
}

bitfields!(Av1PictureParameterLoopRestorationFields {
    bits.yframe_restoration_type / set_yframe_restoration_type: 0, 2;
    bits.cbframe_restoration_type / set_cbframe_restoration_type: 2, 2;
    bits.crframe_restoration_type / set_crframe_restoration_type: 4, 2;
    bits.lr_unit_shift / set_lr_unit_shift: 6, 2;
    bits.lr_uv_shift / set_lr_uv_shift: 8, 1;
});

wire_struct! {
    /// An anonymous member struct of the C definition.
    pub struct Av1PictureParameterWm {
        pub wmtype: u32,
        pub invalid: u8,
        pub wmmat: [i32; 8],
    }
}

wire_struct! {
    /// An anonymous member struct of the C definition.
    pub struct Av1PictureParameter {
        pub profile: u8,
        pub order_hint_bits_minus_1: u8,
        pub bit_depth_idx: u8,
        pub seq_info_fields: Av1PictureParameterSeqInfoFields,
        pub current_frame_id: u32,
        pub frame_width: u16,
        pub frame_height: u16,
        pub max_width: u16,
        pub max_height: u16,
        pub ref_frame_idx: [u8; 7],
        pub primary_ref_frame: u8,
        pub order_hint: u8,
        pub seg_info: Av1PictureParameterSegInfo,
        pub film_grain_info: Av1PictureParameterFilmGrainInfo,
        pub tile_cols: u8,
        pub tile_rows: u8,
        pub tile_col_start_sb: [u32; 65],
        pub tile_row_start_sb: [u32; 65],
        pub width_in_sbs: [u16; 64],
        pub height_in_sbs: [u16; 64],
        pub context_update_tile_id: u16,
        pub pic_info_fields: Av1PictureParameterPicInfoFields,
        pub superres_scale_denominator: u8,
        pub interp_filter: u8,
        pub filter_level: [u8; 2],
        pub filter_level_u: u8,
        pub filter_level_v: u8,
        pub loop_filter_info_fields: Av1PictureParameterLoopFilterInfoFields,
        pub ref_deltas: [i8; 8],
        pub mode_deltas: [i8; 2],
        pub base_qindex: u8,
        pub y_dc_delta_q: i8,
        pub u_dc_delta_q: i8,
        pub u_ac_delta_q: i8,
        pub v_dc_delta_q: i8,
        pub v_ac_delta_q: i8,
        pub qmatrix_fields: Av1PictureParameterQmatrixFields,
        pub mode_control_fields: Av1PictureParameterModeControlFields,
        pub cdef_damping_minus_3: u8,
        pub cdef_bits: u8,
        pub cdef_y_strengths: [u8; 8],
        pub cdef_uv_strengths: [u8; 8],
        pub loop_restoration_fields: Av1PictureParameterLoopRestorationFields,
        pub lr_unit_size: [u16; 3],
        pub wm: [Av1PictureParameterWm; 7],
        pub refresh_frame_flags: u32,
        pub matrix_coefficients: u8,
    }
}

wire_struct! {
    /// An anonymous member struct of the C definition.
    pub struct Av1SliceParameter {
        pub slice_data_size: [u32; 256],
        pub slice_data_offset: [u32; 256],
        pub slice_data_row: [u16; 256],
        pub slice_data_col: [u16; 256],
        pub slice_data_anchor_frame_idx: [u8; 256],
        pub slice_count: u16,
    }
}

wire_struct! {
    /// `struct virgl_av1_picture_desc`.
    pub struct Av1PictureDesc {
        pub base: BasePictureDesc,
        pub r#ref: [u32; 16],
        pub film_grain_target: u32,
        pub picture_parameter: Av1PictureParameter,
        pub slice_parameter: Av1SliceParameter,
    }
}
