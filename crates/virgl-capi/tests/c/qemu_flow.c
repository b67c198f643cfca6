/*
 * Drives libvirglrenderer.so.1 the way QEMU's hw/display/virtio-gpu-virgl.c does:
 *
 *   capsets queried before init; init(cookie, flags 0, callbacks version 1) with GL contexts
 *   made by the embedder (here: our own EGL surfaceless display, as QEMU's egl-headless/SDL
 *   code makes them); a 2D resource with guest pages attached as an iovec list; 2D transfers
 *   with ctx 0 and iov NULL (the attached pages are used); a hand-encoded command stream that
 *   clears the resource; a context-0 fence reported through write_fence from poll; scanout
 *   info; detach returning the embedder's own iovec array; teardown.
 *
 * Every step that the library cannot do fails the program: nothing here is optional.
 */
#include "harness.h"

#include <EGL/egl.h>
#include <EGL/eglext.h>
#include <GL/gl.h>
#include <strings.h>
#include <unistd.h>

#define W 64
#define H 48
#define BPP 4
#define RES_ID 17
#define CTX_ID 3
#define FENCE_ID 42

/* ---- the embedder: cookie, EGL, callbacks ---- */

struct embedder {
   EGLDisplay dpy;
   int live_contexts;
   int contexts_created;
   int make_current_calls;
   int fences_written;
   uint32_t last_fence;
   int wrong_cookie;
};

static struct embedder emb;

static void setup_egl(void)
{
   PFNEGLGETPLATFORMDISPLAYEXTPROC get_platform_display =
      (PFNEGLGETPLATFORMDISPLAYEXTPROC)eglGetProcAddress("eglGetPlatformDisplayEXT");
   REQUIRE(get_platform_display != NULL, "eglGetPlatformDisplayEXT missing");
   emb.dpy = get_platform_display(EGL_PLATFORM_SURFACELESS_MESA, EGL_DEFAULT_DISPLAY, NULL);
   REQUIRE(emb.dpy != EGL_NO_DISPLAY, "no surfaceless EGL display");
   EGLint major, minor;
   REQUIRE(eglInitialize(emb.dpy, &major, &minor), "eglInitialize: 0x%x", eglGetError());
   const char *exts = eglQueryString(emb.dpy, EGL_EXTENSIONS);
   REQUIRE(exts && (strstr(exts, "EGL_KHR_no_config_context") ||
                    strstr(exts, "EGL_MESA_configless_context")),
           "EGL display without no-config contexts");
   REQUIRE(eglBindAPI(EGL_OPENGL_API), "eglBindAPI(GL)");
   printf("embedder EGL %d.%d: %s\n", major, minor, eglQueryString(emb.dpy, EGL_VENDOR));
}

static virgl_renderer_gl_context cb_create_gl_context(void *cookie, int scanout_idx,
                                                      struct virgl_renderer_gl_ctx_param *param)
{
   if (cookie != &emb)
      emb.wrong_cookie++;
   (void)scanout_idx;
   /* QEMU shares with whatever context is current when asked to. */
   EGLContext share = param->shared ? eglGetCurrentContext() : EGL_NO_CONTEXT;
   const EGLint attribs[] = {
      EGL_CONTEXT_MAJOR_VERSION_KHR, param->major_ver,
      EGL_CONTEXT_MINOR_VERSION_KHR, param->minor_ver,
      EGL_CONTEXT_OPENGL_PROFILE_MASK_KHR,
      param->compat_ctx ? EGL_CONTEXT_OPENGL_COMPATIBILITY_PROFILE_BIT_KHR
                        : EGL_CONTEXT_OPENGL_CORE_PROFILE_BIT_KHR,
      EGL_NONE,
   };
   EGLContext ctx = eglCreateContext(emb.dpy, EGL_NO_CONFIG_KHR, share, attribs);
   printf("create_gl_context(%d.%d%s%s) -> %p\n", param->major_ver, param->minor_ver,
          param->compat_ctx ? " compat" : " core", param->shared ? " shared" : "",
          (void *)ctx);
   if (ctx == EGL_NO_CONTEXT)
      return NULL;
   emb.live_contexts++;
   emb.contexts_created++;
   return ctx;
}

static void cb_destroy_gl_context(void *cookie, virgl_renderer_gl_context ctx)
{
   if (cookie != &emb)
      emb.wrong_cookie++;
   if (ctx == eglGetCurrentContext())
      eglMakeCurrent(emb.dpy, EGL_NO_SURFACE, EGL_NO_SURFACE, EGL_NO_CONTEXT);
   if (eglDestroyContext(emb.dpy, ctx))
      emb.live_contexts--;
}

static int cb_make_current(void *cookie, int scanout_idx, virgl_renderer_gl_context ctx)
{
   if (cookie != &emb)
      emb.wrong_cookie++;
   (void)scanout_idx;
   emb.make_current_calls++;
   return eglMakeCurrent(emb.dpy, EGL_NO_SURFACE, EGL_NO_SURFACE, ctx) ? 0 : -1;
}

static void cb_write_fence(void *cookie, uint32_t fence)
{
   if (cookie != &emb)
      emb.wrong_cookie++;
   emb.fences_written++;
   emb.last_fence = fence;
}

/* ---- checks on pixels in guest memory ---- */

static int near(int a, int b)
{
   return abs(a - b) <= 1;
}

/* Counts pixels of a BGRA8 image that differ from b,g,r,a by more than one step. */
static int count_bad_pixels(const uint8_t *px, unsigned w, unsigned h, unsigned stride,
                            int b, int g, int r, int a)
{
   int bad = 0;
   for (unsigned y = 0; y < h; y++) {
      for (unsigned x = 0; x < w; x++) {
         const uint8_t *p = px + y * stride + x * BPP;
         if (!near(p[0], b) || !near(p[1], g) || !near(p[2], r) || !near(p[3], a)) {
            if (bad < 3)
               fprintf(stderr, "  pixel (%u,%u) = %u,%u,%u,%u, want %d,%d,%d,%d\n", x, y, p[0],
                       p[1], p[2], p[3], b, g, r, a);
            bad++;
         }
      }
   }
   return bad;
}

static uint8_t pattern(unsigned x, unsigned y, unsigned c)
{
   return (uint8_t)(x * 3 + y * 7 + c * 61);
}

int main(void)
{
   setvbuf(stdout, NULL, _IOLBF, 0);
   check_library_is_ours();
   uint32_t max_ver, max_size;

   STEP("get_cap_set before init");
   virgl_renderer_get_cap_set(1, &max_ver, &max_size);
   CHECK(max_ver == 1 && max_size == 308, "VIRGL: %u/%u", max_ver, max_size);
   virgl_renderer_get_cap_set(2, &max_ver, &max_size);
   CHECK(max_ver == 2 && max_size == 1408, "VIRGL2: %u/%u", max_ver, max_size);
   uint32_t virgl2_size = max_size;
   virgl_renderer_get_cap_set(4, &max_ver, &max_size);
   CHECK(max_size == 0, "VENUS served before init without the Venus backend: size %u", max_size);
   virgl_renderer_get_cap_set(6, &max_ver, &max_size);
   CHECK(max_size == 0, "DRM size %u", max_size);

   STEP("init(cookie, 0, callbacks v1) with embedder GL contexts");
   setup_egl();
   static struct virgl_renderer_callbacks cbs = {
      .version = 1,
      .write_fence = cb_write_fence,
      .create_gl_context = cb_create_gl_context,
      .destroy_gl_context = cb_destroy_gl_context,
      .make_current = cb_make_current,
   };
   int ret = virgl_renderer_init(&emb, 0, &cbs);
   REQUIRE(ret == 0, "virgl_renderer_init: %d", ret);
   CHECK(emb.contexts_created >= 1, "init created no GL context through the callbacks");
   CHECK(virgl_renderer_init(&emb, 0, &cbs) == 0, "init again with the same arguments");

   STEP("fill_caps VIRGL2");
   REQUIRE(virgl2_size >= 760, "VIRGL2 capset too small: %u", virgl2_size);
   uint8_t *caps = calloc(1, virgl2_size);
   REQUIRE(caps, "calloc");
   virgl_renderer_fill_caps(2, 2, caps);
   uint32_t caps_max_version, host_feature_check_version;
   memcpy(&caps_max_version, caps, 4);
   memcpy(&host_feature_check_version, caps + 556, 4);
   char renderer_name[65] = {0};
   memcpy(renderer_name, caps + 696, 64);
   printf("caps: max_version %u, host_feature_check_version %u, renderer \"%s\"\n",
          caps_max_version, host_feature_check_version, renderer_name);
   CHECK(caps_max_version == 2, "caps.max_version %u", caps_max_version);
   CHECK(host_feature_check_version >= 23, "host_feature_check_version %u",
         host_feature_check_version);
   /*
    * Upstream forwards the host's GL_RENDERER (the guest's Mesa prefixes "virgl (...)" itself),
    * with "llvmpipe" spelled "LLVMPIPE" so that glamor in the guest does not refuse it.
    */
   CHECK(caps[696 + 63] == 0 && renderer_name[0] != 0, "renderer string not a C string");
   CHECK(strstr(renderer_name, "llvmpipe") == NULL, "renderer \"%s\" not masked",
         renderer_name);
   /* The library left one of our contexts current on this thread: ask it directly. */
   typedef const GLubyte *(*get_string_fn)(GLenum);
   get_string_fn get_string = (get_string_fn)eglGetProcAddress("glGetString");
   const char *host_renderer =
      get_string && eglGetCurrentContext() ? (const char *)get_string(GL_RENDERER) : NULL;
   printf("host GL_RENDERER: %s\n", host_renderer ? host_renderer : "(no current context)");
   CHECK(host_renderer == NULL || strncasecmp(renderer_name, host_renderer, 8) == 0,
         "renderer \"%s\" is not the host's \"%s\"", renderer_name, host_renderer);
   free(caps);

   STEP("context_create");
   const char name[] = "qemu-flow";
   ret = virgl_renderer_context_create(CTX_ID, sizeof(name) - 1, name);
   REQUIRE(ret == 0, "context_create: %d", ret);

   STEP("resource_create %dx%d B8G8R8A8 render target, attach_iov of two pieces", W, H);
   struct virgl_renderer_resource_create_args args = {
      .handle = RES_ID,
      .target = PIPE_TEXTURE_2D,
      .format = VFMT_B8G8R8A8_UNORM,
      .bind = VIRGL_RES_BIND_RENDER_TARGET | VIRGL_RES_BIND_SAMPLER_VIEW,
      .width = W,
      .height = H,
      .depth = 1,
      .array_size = 1,
      .last_level = 0,
      .nr_samples = 0,
      .flags = 0,
   };
   ret = virgl_renderer_resource_create(&args, NULL, 0);
   REQUIRE(ret == 0, "resource_create: %d", ret);
   const size_t size = (size_t)W * H * BPP;
   /* Guest pages are not contiguous on the host: split the backing at an odd place. */
   const size_t split = 4096 + 12;
   uint8_t *piece0 = malloc(split);
   uint8_t *piece1 = malloc(size - split);
   uint8_t *guest = malloc(size); /* a linear view, for the checks */
   REQUIRE(piece0 && piece1 && guest, "malloc");
   struct iovec *iov = malloc(2 * sizeof(*iov));
   REQUIRE(iov, "malloc");
   iov[0] = (struct iovec){.iov_base = piece0, .iov_len = split};
   iov[1] = (struct iovec){.iov_base = piece1, .iov_len = size - split};
   ret = virgl_renderer_resource_attach_iov(RES_ID, iov, 2);
   REQUIRE(ret == 0, "attach_iov: %d", ret);
   virgl_renderer_ctx_attach_resource(CTX_ID, RES_ID);

#define GATHER() (memcpy(guest, piece0, split), memcpy(guest + split, piece1, size - split))
#define SCATTER() (memcpy(piece0, guest, split), memcpy(piece1, guest + split, size - split))

   STEP("transfer_write_iov (ctx 0, iov NULL) of a pattern, read back into zeroed pages");
   for (unsigned y = 0; y < H; y++)
      for (unsigned x = 0; x < W; x++)
         for (unsigned c = 0; c < BPP; c++)
            guest[(y * W + x) * BPP + c] = pattern(x, y, c);
   SCATTER();
   struct virgl_box whole = {.x = 0, .y = 0, .z = 0, .w = W, .h = H, .d = 1};
   ret = virgl_renderer_transfer_write_iov(RES_ID, 0, 0, 0, 0, &whole, 0, NULL, 0);
   CHECK(ret == 0, "transfer_write_iov: %d", ret);
   memset(piece0, 0, split);
   memset(piece1, 0, size - split);
   ret = virgl_renderer_transfer_read_iov(RES_ID, 0, 0, 0, 0, &whole, 0, NULL, 0);
   CHECK(ret == 0, "transfer_read_iov: %d", ret);
   GATHER();
   int bad = 0;
   for (unsigned i = 0; i < size; i++)
      bad += guest[i] != pattern((i / BPP) % W, (i / BPP) / W, i % BPP);
   CHECK(bad == 0, "%d bytes differ after the write/read round trip", bad);

   STEP("2D sub-rectangle upload at QEMU's offset (y * stride + x * bpp)");
   struct virgl_box rect = {.x = 8, .y = 5, .z = 0, .w = 16, .h = 7, .d = 1};
   memset(guest, 0xa5, size);
   SCATTER();
   uint64_t offset = (uint64_t)rect.y * W * BPP + rect.x * BPP;
   ret = virgl_renderer_transfer_write_iov(RES_ID, 0, 0, 0, 0, &rect, offset, NULL, 0);
   CHECK(ret == 0, "transfer_write_iov(rect): %d", ret);
   memset(piece0, 0, split);
   memset(piece1, 0, size - split);
   ret = virgl_renderer_transfer_read_iov(RES_ID, 0, 0, 0, 0, &whole, 0, NULL, 0);
   CHECK(ret == 0, "transfer_read_iov: %d", ret);
   GATHER();
   bad = 0;
   for (unsigned y = 0; y < H; y++) {
      for (unsigned x = 0; x < W; x++) {
         int inside = x >= rect.x && x < rect.x + rect.w && y >= rect.y && y < rect.y + rect.h;
         for (unsigned c = 0; c < BPP; c++) {
            uint8_t want = inside ? 0xa5 : pattern(x, y, c);
            bad += guest[(y * W + x) * BPP + c] != want;
         }
      }
   }
   CHECK(bad == 0, "%d bytes wrong after the sub-rectangle upload", bad);

   STEP("submit_cmd: CREATE_OBJECT SURFACE, SET_FRAMEBUFFER_STATE, CLEAR");
   struct cmdbuf cmds = {0};
   const uint32_t surface = 5;
   const float rgba[4] = {1.0f, 0.2f, 0.6f, 1.0f};
   emit_create_surface(&cmds, surface, RES_ID, VFMT_B8G8R8A8_UNORM, 0, 0, 0);
   emit_set_framebuffer(&cmds, 1, &surface, 0);
   emit_clear(&cmds, PIPE_CLEAR_COLOR0, rgba, 1.0, 0);
   ret = virgl_renderer_submit_cmd(cmds.dw, CTX_ID, (int)cmds.n);
   CHECK(ret == 0, "submit_cmd: %d", ret);

   /* QEMU binds the renderer's own context before it touches GL itself (scanout blits). */
   virgl_renderer_force_ctx_0();

   STEP("transfer_read_iov into the attached pages, check the clear colour");
   memset(piece0, 0, split);
   memset(piece1, 0, size - split);
   ret = virgl_renderer_transfer_read_iov(RES_ID, 0, 0, 0, 0, &whole, 0, NULL, 0);
   CHECK(ret == 0, "transfer_read_iov: %d", ret);
   GATHER();
   /* B8G8R8A8 in memory: B, G, R, A bytes. */
   bad = count_bad_pixels(guest, W, H, W * BPP, 153, 51, 255, 255);
   CHECK(bad == 0, "%d of %d pixels are not the clear colour", bad, W * H);

   STEP("TRANSFER_FROM_HOST_3D passes the command's ctx_id");
   memset(piece0, 0, split);
   memset(piece1, 0, size - split);
   ret = virgl_renderer_transfer_read_iov(RES_ID, CTX_ID, 0, 0, 0, &whole, 0, NULL, 0);
   CHECK(ret == 0, "transfer_read_iov(ctx %d): %d", CTX_ID, ret);
   GATHER();
   bad = count_bad_pixels(guest, W, H, W * BPP, 153, 51, 255, 255);
   CHECK(bad == 0, "ctx transfer: %d of %d pixels are not the clear colour", bad, W * H);

   STEP("create_fence + poll -> write_fence");
   ret = virgl_renderer_create_fence(FENCE_ID, 0);
   CHECK(ret == 0, "create_fence: %d", ret);
   for (int i = 0; i < 200 && emb.last_fence != FENCE_ID; i++) {
      virgl_renderer_poll();
      if (emb.last_fence != FENCE_ID)
         usleep(5000);
   }
   CHECK(emb.fences_written >= 1 && emb.last_fence == FENCE_ID,
         "write_fence: %d calls, last %u", emb.fences_written, emb.last_fence);

   STEP("resource_get_info");
   struct virgl_renderer_resource_info info;
   memset(&info, 0xff, sizeof(info));
   ret = virgl_renderer_resource_get_info(RES_ID, &info);
   CHECK(ret == 0, "get_info: %d", ret);
   printf("info: handle %u format %u %ux%u depth %u flags %#x tex_id %u stride %u fourcc %#x "
          "fd %d\n",
          info.handle, info.virgl_format, info.width, info.height, info.depth, info.flags,
          info.tex_id, info.stride, (unsigned)info.drm_fourcc, info.fd);
   CHECK(info.handle == RES_ID, "handle %u", info.handle);
   CHECK(info.virgl_format == VFMT_B8G8R8A8_UNORM, "format %u", info.virgl_format);
   CHECK(info.width == W && info.height == H, "size %ux%u", info.width, info.height);
   CHECK(info.tex_id != 0, "tex_id 0");
   CHECK(info.stride == W * BPP, "stride %u", info.stride);
   CHECK(info.drm_fourcc == ('A' | 'R' << 8 | '2' << 16 | '4' << 24), "fourcc %#x",
         (unsigned)info.drm_fourcc);

   struct virgl_renderer_resource_info_ext info_ext;
   memset(&info_ext, 0xff, sizeof(info_ext));
   info_ext.version = VIRGL_RENDERER_RESOURCE_INFO_EXT_VERSION;
   ret = virgl_renderer_resource_get_info_ext(RES_ID, &info_ext);
   CHECK(ret == 0, "get_info_ext: %d", ret);
   CHECK(info_ext.version == VIRGL_RENDERER_RESOURCE_INFO_EXT_VERSION, "version overwritten");
   CHECK(memcmp(&info_ext.base, &info, sizeof(info)) == 0, "get_info_ext base differs");
   CHECK(!info_ext.has_dmabuf_export, "dma-buf export claimed without GBM");

   STEP("get_rect of the whole resource into a separate buffer");
   uint8_t *rect_mem = calloc(1, size);
   REQUIRE(rect_mem, "calloc");
   struct iovec rect_iov = {.iov_base = rect_mem, .iov_len = size};
   virgl_renderer_get_rect(RES_ID, &rect_iov, 1, 0, 0, 0, W, H);
   bad = count_bad_pixels(rect_mem, W, H, W * BPP, 153, 51, 255, 255);
   CHECK(bad == 0, "get_rect: %d of %d pixels are not the clear colour", bad, W * H);
   free(rect_mem);

   STEP("detach_iov hands back the embedder's own iovec array");
   struct iovec *detached = NULL;
   int detached_count = -1;
   virgl_renderer_resource_detach_iov(RES_ID, &detached, &detached_count);
   CHECK(detached == iov, "detach_iov returned %p, attached %p", (void *)detached, (void *)iov);
   CHECK(detached_count == 2, "detach_iov count %d", detached_count);
   ret = virgl_renderer_transfer_read_iov(RES_ID, 0, 0, 0, 0, &whole, 0, NULL, 0);
   CHECK(ret != 0, "transfer into a detached resource succeeded");

   STEP("unref, context_destroy, cleanup");
   virgl_renderer_ctx_detach_resource(CTX_ID, RES_ID);
   virgl_renderer_resource_unref(RES_ID);
   ret = virgl_renderer_resource_get_info(RES_ID, &info);
   CHECK(ret != 0, "get_info after unref: %d", ret);
   virgl_renderer_context_destroy(CTX_ID);
   virgl_renderer_cleanup(&emb);
   CHECK(emb.live_contexts == 0, "%d GL contexts of %d never destroyed", emb.live_contexts,
         emb.contexts_created);
   CHECK(emb.wrong_cookie == 0, "%d callbacks got the wrong cookie", emb.wrong_cookie);
   printf("GL contexts created through callbacks: %d, make_current calls: %d\n",
          emb.contexts_created, emb.make_current_calls);

   STEP("calls after cleanup fail cleanly");
   CHECK(virgl_renderer_context_create(1, 0, NULL) != 0, "context_create after cleanup");

   free(iov);
   free(piece0);
   free(piece1);
   free(guest);
   eglTerminate(emb.dpy);
   return finish("qemu_flow");
}
