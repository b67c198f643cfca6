/*
 * Error paths of the C ABI, with upstream virglrenderer 1.3.0's return values (which differ from
 * function to function: positive errno, negative errno, -1).
 *
 *   - bad callbacks refuse init, and a refused init leaves the library usable;
 *   - every call before init fails or does nothing, without crashing;
 *   - unknown contexts and resources, handle 0, duplicates, misaligned and negative submits;
 *   - capsets the renderer does not serve (VENUS 4, DRM 6);
 *   - a bad command stream breaks its own context only;
 *   - virgl_renderer_execute: SUPPORTED_STRUCTURES and EXPORT_QUERY.
 *
 * The renderer here makes its own EGL display (USE_EGL | USE_SURFACELESS, as vtest does), so the
 * callbacks carry no GL functions.
 */
#include "harness.h"

#include <errno.h>

#define CTX_BAD 1
#define CTX_GOOD 2
#define CTX_TRUNCATED 3
#define CTX_PROBE 7
#define RES_A 10
#define RES_B 11
#define W 16
#define H 16

static int fence_calls;

static void cb_write_fence(void *cookie, uint32_t fence)
{
   (void)cookie;
   (void)fence;
   fence_calls++;
}

static struct virgl_renderer_resource_create_args rt_args(uint32_t handle)
{
   struct virgl_renderer_resource_create_args args = {
      .handle = handle,
      .target = PIPE_TEXTURE_2D,
      .format = VFMT_B8G8R8A8_UNORM,
      .bind = VIRGL_RES_BIND_RENDER_TARGET | VIRGL_RES_BIND_SAMPLER_VIEW,
      .width = W,
      .height = H,
      .depth = 1,
      .array_size = 1,
   };
   return args;
}

static void before_init(void)
{
   STEP("calls before init");
   uint32_t dw[4] = {0};
   struct virgl_box box = {0, 0, 0, 1, 1, 1};
   uint8_t pixel[4];
   struct iovec iov = {.iov_base = pixel, .iov_len = sizeof(pixel)};
   struct virgl_renderer_resource_create_args args = rt_args(RES_A);
   struct virgl_renderer_resource_info info;
   uint32_t w = 123, h = 456;

   virgl_renderer_poll();
   virgl_renderer_force_ctx_0();
   virgl_renderer_reset();
   CHECK(virgl_renderer_context_create(1, 0, NULL) != 0, "context_create");
   CHECK(virgl_renderer_context_create_with_flags(1, 2, 0, NULL) != 0, "create_with_flags");
   CHECK(virgl_renderer_submit_cmd(dw, 1, 1) != 0, "submit_cmd");
   CHECK(virgl_renderer_resource_create(&args, NULL, 0) != 0, "resource_create");
   CHECK(virgl_renderer_resource_attach_iov(RES_A, &iov, 1) != 0, "attach_iov");
   CHECK(virgl_renderer_transfer_read_iov(RES_A, 0, 0, 0, 0, &box, 0, &iov, 1) != 0,
         "transfer_read_iov");
   CHECK(virgl_renderer_transfer_write_iov(RES_A, 0, 0, 0, 0, &box, 0, &iov, 1) != 0,
         "transfer_write_iov");
   CHECK(virgl_renderer_resource_get_info(RES_A, &info) != 0, "get_info");
   CHECK(virgl_renderer_create_fence(1, 0) != 0, "create_fence");
   CHECK(virgl_renderer_context_create_fence(1, 0, 0, 1) != 0, "context_create_fence");
   CHECK(virgl_renderer_get_cursor_data(RES_A, &w, &h) == NULL, "get_cursor_data");
   CHECK(w == 123 && h == 456, "get_cursor_data wrote %u x %u", w, h);
   CHECK(virgl_renderer_resource_get_priv(RES_A) == NULL, "get_priv");
   CHECK(virgl_renderer_get_poll_fd() == -1, "get_poll_fd");
   struct iovec *detached = (struct iovec *)&w;
   int count = 77;
   virgl_renderer_resource_detach_iov(RES_A, &detached, &count);
   CHECK(detached == (struct iovec *)&w && count == 77, "detach_iov wrote its out parameters");
   virgl_renderer_resource_set_priv(RES_A, &w);
   virgl_renderer_resource_unref(RES_A);
   virgl_renderer_context_destroy(1);
   virgl_renderer_ctx_attach_resource(1, RES_A);
   virgl_renderer_ctx_detach_resource(1, RES_A);
   virgl_renderer_get_rect(RES_A, &iov, 1, 0, 0, 0, 1, 1);
   virgl_renderer_context_poll(1);
   virgl_renderer_cleanup(NULL);
   uint32_t max_ver = 99, max_size = 99;
   virgl_renderer_get_cap_set(2, &max_ver, &max_size);
   CHECK(max_ver == 2 && max_size == 1408, "get_cap_set before init: %u/%u", max_ver, max_size);
}

static void bad_callbacks(void)
{
   STEP("init refuses callback versions 0 and 5 and NULL callbacks");
   static struct virgl_renderer_callbacks cbs;
   const int flags = VIRGL_RENDERER_USE_EGL | VIRGL_RENDERER_USE_SURFACELESS;
   cbs.version = 0;
   CHECK(virgl_renderer_init(NULL, flags, &cbs) != 0, "callbacks version 0 accepted");
   cbs.version = 5;
   CHECK(virgl_renderer_init(NULL, flags, &cbs) != 0, "callbacks version 5 accepted");
   CHECK(virgl_renderer_init(NULL, flags, NULL) != 0, "NULL callbacks accepted");
   CHECK(virgl_renderer_context_create(1, 0, NULL) != 0, "a refused init left a renderer");
}

/* The surface/framebuffer/clear sequence of qemu_flow, on `res` in `ctx`. */
static int submit_clear(uint32_t ctx, uint32_t surface, uint32_t res, const float rgba[4])
{
   struct cmdbuf b = {0};
   emit_create_surface(&b, surface, res, VFMT_B8G8R8A8_UNORM, 0, 0, 0);
   emit_set_framebuffer(&b, 1, &surface, 0);
   emit_clear(&b, PIPE_CLEAR_COLOR0, rgba, 1.0, 0);
   return virgl_renderer_submit_cmd(b.dw, (int)ctx, (int)b.n);
}

static void check_export_query(void)
{
   STEP("virgl_renderer_execute: SUPPORTED_STRUCTURES, EXPORT_QUERY");
   struct virgl_renderer_supported_structures supported = {
      .hdr = {.stype = 2, .stype_version = 0, .size = sizeof(supported)},
      .in_stype_version = 0,
   };
   int ret = virgl_renderer_execute(&supported, sizeof(supported));
   CHECK(ret == 0, "supported_structures: %d", ret);
   CHECK(supported.out_supported_structures_mask == 3, "supported mask %#x",
         supported.out_supported_structures_mask);
   supported.in_stype_version = 1;
   ret = virgl_renderer_execute(&supported, sizeof(supported));
   CHECK(ret == 0 && supported.out_supported_structures_mask == 0,
         "supported_structures v1: %d, mask %#x", ret, supported.out_supported_structures_mask);

   /* A typed GL resource: no dma-buf export here, but a plain query answers with no fds. */
   struct virgl_renderer_export_query query = {
      .hdr = {.stype = 1, .stype_version = 0, .size = sizeof(query)},
      .in_resource_id = RES_A,
      .in_export_fds = 0,
   };
   query.out_num_fds = 99;
   ret = virgl_renderer_execute(&query, sizeof(query));
   CHECK(ret == 0, "export_query (no fds) of a GL resource: %d", ret);
   CHECK(query.out_num_fds == 0, "out_num_fds %u", query.out_num_fds);
   CHECK(query.out_modifier == 0x00ffffffffffffffull, "out_modifier %#llx",
         (unsigned long long)query.out_modifier);

   query.in_export_fds = 1;
   ret = virgl_renderer_execute(&query, sizeof(query));
   CHECK(ret == -EINVAL, "export_query with fds of a GL resource: %d", ret);

   query.in_export_fds = 0;
   query.in_resource_id = 999;
   ret = virgl_renderer_execute(&query, sizeof(query));
   CHECK(ret == -EINVAL, "export_query of an unknown resource: %d", ret);

   query.in_resource_id = RES_A;
   query.hdr.stype_version = 1;
   ret = virgl_renderer_execute(&query, sizeof(query));
   CHECK(ret == -EINVAL, "stype_version 1: %d", ret);
   query.hdr.stype_version = 0;
   ret = virgl_renderer_execute(&query, sizeof(query) - 8);
   CHECK(ret == -EINVAL, "short execute_size: %d", ret);
   query.hdr.stype = 7;
   ret = virgl_renderer_execute(&query, sizeof(query));
   CHECK(ret == -EINVAL, "unknown stype: %d", ret);
}

int main(void)
{
   setvbuf(stdout, NULL, _IOLBF, 0);
   check_library_is_ours();
   before_init();
   bad_callbacks();

   STEP("init(USE_EGL | USE_SURFACELESS, callbacks v1 without GL functions)");
   static struct virgl_renderer_callbacks cbs = {.version = 1, .write_fence = cb_write_fence};
   static int cookie;
   const int flags = VIRGL_RENDERER_USE_EGL | VIRGL_RENDERER_USE_SURFACELESS;
   int ret = virgl_renderer_init(&cookie, flags, &cbs);
   REQUIRE(ret == 0, "virgl_renderer_init: %d", ret);
   ret = virgl_renderer_init(&cookie, flags | VIRGL_RENDERER_USE_GLES, &cbs);
   CHECK(ret == -EBUSY, "init again with other flags: %d", ret);

   STEP("context ids and capsets");
   CHECK(virgl_renderer_context_create(0, 0, NULL) == EINVAL, "context 0");
   CHECK(virgl_renderer_context_create(CTX_BAD, 4, "bad\0") == 0, "context_create");
   CHECK(virgl_renderer_context_create(CTX_BAD, 3, "bad") == 0, "same id, same capset");
   CHECK(virgl_renderer_context_create_with_flags(CTX_BAD, 1, 0, NULL) == EINVAL,
         "same id, other capset");
   CHECK(virgl_renderer_context_create_with_flags(CTX_GOOD, 2, 4, "good") == 0, "VIRGL2");
   CHECK(virgl_renderer_context_create_with_flags(CTX_TRUNCATED, 1, 0, NULL) == 0, "VIRGL");
   CHECK(virgl_renderer_context_create_with_flags(CTX_PROBE, 2, 0, NULL) == 0, "probe ctx");
   ret = virgl_renderer_context_create_with_flags(20, 4, 5, "venus");
   CHECK(ret == EINVAL, "VENUS context without the Venus backend: %d", ret);
   ret = virgl_renderer_context_create_with_flags(21, 6, 3, "drm");
   CHECK(ret == EINVAL, "DRM context: %d", ret);
   ret = virgl_renderer_context_create_with_flags(22, 0x100 | 2, 0, NULL);
   CHECK(ret == EINVAL, "flags outside the capset byte: %d", ret);
   ret = virgl_renderer_context_create_with_flags(23, 0, 0, NULL);
   CHECK(ret == EINVAL, "capset 0: %d", ret);

   STEP("resources: handle 0, duplicates, unknown ids");
   struct virgl_renderer_resource_create_args args = rt_args(0);
   CHECK(virgl_renderer_resource_create(&args, NULL, 0) == EINVAL, "handle 0");
   args = rt_args(RES_A);
   REQUIRE(virgl_renderer_resource_create(&args, NULL, 0) == 0, "resource_create");
   ret = virgl_renderer_resource_create(&args, NULL, 0);
   CHECK(ret == -EINVAL, "duplicate id: %d (upstream returns -EINVAL here)", ret);
   args = rt_args(RES_B);
   args.format = 100000;
   ret = virgl_renderer_resource_create(&args, NULL, 0);
   CHECK(ret == EINVAL, "unknown format: %d", ret);
   args = rt_args(RES_B);
   args.width = 0;
   ret = virgl_renderer_resource_create(&args, NULL, 0);
   CHECK(ret == EINVAL, "width 0: %d", ret);

   uint8_t pixels[W * H * 4];
   struct iovec iov = {.iov_base = pixels, .iov_len = sizeof(pixels)};
   struct virgl_box box = {0, 0, 0, W, H, 1};
   struct virgl_renderer_resource_info info;
   CHECK(virgl_renderer_resource_attach_iov(999, &iov, 1) == EINVAL, "attach_iov unknown");
   CHECK(virgl_renderer_transfer_read_iov(999, 0, 0, 0, 0, &box, 0, &iov, 1) == EINVAL,
         "transfer_read unknown resource");
   CHECK(virgl_renderer_transfer_write_iov(999, 0, 0, 0, 0, &box, 0, &iov, 1) == EINVAL,
         "transfer_write unknown resource");
   CHECK(virgl_renderer_transfer_read_iov(RES_A, 99, 0, 0, 0, &box, 0, &iov, 1) == EINVAL,
         "transfer_read in an unknown context");
   CHECK(virgl_renderer_transfer_read_iov(RES_A, CTX_GOOD, 0, 0, 0, &box, 0, &iov, 1) == EINVAL,
         "transfer_read in a context the resource is not attached to");
   CHECK(virgl_renderer_transfer_read_iov(RES_A, 0, 0, 0, 0, NULL, 0, &iov, 1) != 0,
         "transfer without a box");
   struct virgl_box outside = {W - 4, 0, 0, 8, 1, 1};
   CHECK(virgl_renderer_transfer_read_iov(RES_A, 0, 0, 0, 0, &outside, 0, &iov, 1) == EINVAL,
         "box outside the resource");
   struct virgl_box big = {0, 0, 0, W, H, 1};
   struct iovec small = {.iov_base = pixels, .iov_len = 16};
   CHECK(virgl_renderer_transfer_read_iov(RES_A, 0, 0, 0, 0, &big, 0, &small, 1) == EINVAL,
         "transfer into too little guest memory");
   CHECK(virgl_renderer_resource_get_info(999, &info) == EINVAL, "get_info unknown");
   CHECK(virgl_renderer_resource_get_info(RES_A, NULL) == EINVAL, "get_info NULL");
   CHECK(virgl_renderer_context_create_fence(99, 0, 0, 1) == -EINVAL,
         "context_create_fence unknown context");

   virgl_renderer_resource_set_priv(999, &cookie);
   CHECK(virgl_renderer_resource_get_priv(999) == NULL, "priv of an unknown resource");
   virgl_renderer_resource_set_priv(RES_A, &cookie);
   CHECK(virgl_renderer_resource_get_priv(RES_A) == &cookie, "priv round trip");

   STEP("attaching unknown ids is a no-op");
   virgl_renderer_ctx_attach_resource(99, RES_A);
   virgl_renderer_ctx_attach_resource(CTX_PROBE, RES_B); /* RES_B does not exist yet */
   args = rt_args(RES_B);
   REQUIRE(virgl_renderer_resource_create(&args, NULL, 0) == 0, "resource_create B");
   const float red[4] = {1, 0, 0, 1};
   ret = submit_clear(CTX_PROBE, 1, RES_B, red);
   CHECK(ret != 0, "a context sees a resource attached before it existed");

   STEP("submit_cmd: unknown context, misaligned buffer, negative length");
   uint32_t aligned[8] = {0};
   CHECK(virgl_renderer_submit_cmd(aligned, 99, 1) == EINVAL, "unknown context");
   CHECK(virgl_renderer_submit_cmd((char *)aligned + 1, CTX_GOOD, 1) == EFAULT, "misaligned");
   CHECK(virgl_renderer_submit_cmd(aligned, CTX_GOOD, -1) == EINVAL, "negative ndw");
   CHECK(virgl_renderer_submit_cmd(aligned, CTX_GOOD, 0) == 0, "empty submit");

   STEP("a bad stream breaks its own context only");
   virgl_renderer_ctx_attach_resource(CTX_BAD, RES_A);
   virgl_renderer_ctx_attach_resource(CTX_GOOD, RES_A);
   virgl_renderer_ctx_attach_resource(CTX_TRUNCATED, RES_A);
   /* A surface on a resource the context cannot see: upstream reports ILLEGAL_RESOURCE. */
   ret = submit_clear(CTX_BAD, 1, 4242, red);
   CHECK(ret != 0, "surface on an unknown resource accepted");
   ret = submit_clear(CTX_BAD, 2, RES_A, red);
   CHECK(ret != 0, "a broken context accepted more commands");
   /* A header whose length runs past the end of the buffer. */
   uint32_t truncated[3] = {CCMD_CLEAR | (8u << 16), 4, 0};
   ret = virgl_renderer_submit_cmd(truncated, CTX_TRUNCATED, 3);
   printf("truncated command: %d\n", ret);
   ret = submit_clear(CTX_TRUNCATED, 2, RES_A, red);
   CHECK(ret != 0, "a context accepted commands after a truncated one");

   const float green[4] = {0, 1, 0, 1};
   ret = submit_clear(CTX_GOOD, 1, RES_A, green);
   CHECK(ret == 0, "the healthy context failed: %d", ret);
   memset(pixels, 0, sizeof(pixels));
   ret = virgl_renderer_transfer_read_iov(RES_A, CTX_GOOD, 0, 0, 0, &box, 0, &iov, 1);
   CHECK(ret == 0, "transfer_read in the healthy context: %d", ret);
   int bad = 0;
   for (int i = 0; i < W * H; i++)
      bad += !(pixels[i * 4] == 0 && pixels[i * 4 + 1] == 255 && pixels[i * 4 + 2] == 0 &&
               pixels[i * 4 + 3] == 255);
   CHECK(bad == 0, "%d pixels not green after the healthy context's clear", bad);

   check_export_query();

   STEP("unref and destroy are idempotent; reset drops everything");
   virgl_renderer_resource_unref(RES_B);
   virgl_renderer_resource_unref(RES_B);
   virgl_renderer_context_destroy(CTX_PROBE);
   virgl_renderer_context_destroy(CTX_PROBE);
   CHECK(virgl_renderer_resource_get_info(RES_B, &info) == EINVAL, "get_info after unref");
   virgl_renderer_reset();
   CHECK(virgl_renderer_resource_get_info(RES_A, &info) == EINVAL, "resource after reset");
   CHECK(virgl_renderer_resource_get_priv(RES_A) == NULL, "priv after reset");
   CHECK(virgl_renderer_submit_cmd(aligned, CTX_GOOD, 0) == EINVAL, "context after reset");
   CHECK(virgl_renderer_context_create(CTX_GOOD, 0, NULL) == 0, "context_create after reset");
   virgl_renderer_cleanup(&cookie);
   CHECK(fence_calls == 0, "write_fence called %d times without fences", fence_calls);
   return finish("errors");
}
