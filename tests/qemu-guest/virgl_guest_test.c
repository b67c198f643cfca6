/*
 * virgl-guest-test: a tiny static guest program that drives virtio-gpu's virgl 3D path with raw
 * DRM_IOCTL_VIRTGPU_* ioctls, as Mesa's virgl winsys does, and checks the pixels the host renders.
 *
 * It runs as the only program in a minimal initramfs (see tests/qemu-guest/init) under an
 * unmodified QEMU whose virtio-gpu-gl device loaded virgl-rs's libvirglrenderer.so.1. Built with
 * `gcc -static` by `cargo xtask qemu-e2e`; needs only the kernel's virtio-gpu driver.
 *
 * Checks, each printed as one `E2E: PASS <name> ...` or `E2E: FAIL <name> ...` line on the console:
 *   device    /dev/dri/renderD128 (or card0) opens, GETPARAM says 3D features are on
 *   caps      GET_CAPS capset 2 (VIRGL2): size and host_feature_check_version of virglrenderer
 *             1.3.0 (1408 bytes, version 23), so the library that answered is not Debian's 0.10.4
 *   clear     a 64x64 B8G8R8A8 render target cleared to a known colour, read back through
 *             TRANSFER_FROM_HOST + WAIT + MAP: every pixel has that colour
 *   triangle  TGSI vertex + fragment shaders, blend/DSA/rasterizer objects, vertex elements, a
 *             vertex buffer uploaded with TRANSFER_TO_HOST, DRAW_VBO: the corners keep the clear
 *             colour, the centre has the triangle's colour, and the triangle covers about the
 *             area it should
 * The last line is `E2E-RESULT device=.. caps=.. clear=.. triangle=..`; the exit status has bit 0
 * set when a prerequisite (device, caps, resources) failed, bit 1 for clear, bit 2 for triangle.
 *
 * The ioctl structures are declared here as the Linux 6.1 uapi (include/uapi/drm/virtgpu_drm.h)
 * lays them out, so the program needs no libdrm headers. On 6.1 the transfer ioctls carry stride
 * and layer_stride, which must be 0 for a resource without blob backing.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/ioctl.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

/* ---- Linux uapi: drm.h / virtgpu_drm.h ---------------------------------------------------- */

#define DRM_IOCTL_BASE 'd'
#define DRM_COMMAND_BASE 0x40
#define VIRTGPU_IOWR(nr, type) _IOWR(DRM_IOCTL_BASE, DRM_COMMAND_BASE + (nr), type)

struct virtgpu_map {
   uint64_t offset;
   uint32_t handle;
   uint32_t pad;
};

struct virtgpu_execbuffer {
   uint32_t flags;
   uint32_t size;
   uint64_t command;
   uint64_t bo_handles;
   uint32_t num_bo_handles;
   int32_t fence_fd;
};

struct virtgpu_getparam {
   uint64_t param;
   uint64_t value;
};

struct virtgpu_resource_create {
   uint32_t target;
   uint32_t format;
   uint32_t bind;
   uint32_t width;
   uint32_t height;
   uint32_t depth;
   uint32_t array_size;
   uint32_t last_level;
   uint32_t nr_samples;
   uint32_t flags;
   uint32_t bo_handle;
   uint32_t res_handle;
   uint32_t size;
   uint32_t stride;
};

struct virtgpu_box {
   uint32_t x, y, z, w, h, d;
};

struct virtgpu_transfer {
   uint32_t bo_handle;
   struct virtgpu_box box;
   uint32_t level;
   uint32_t offset;
   uint32_t stride;
   uint32_t layer_stride;
};

struct virtgpu_wait {
   uint32_t handle;
   uint32_t flags;
};

struct virtgpu_get_caps {
   uint32_t cap_set_id;
   uint32_t cap_set_ver;
   uint64_t addr;
   uint32_t size;
   uint32_t pad;
};

#define IOCTL_VIRTGPU_MAP VIRTGPU_IOWR(0x01, struct virtgpu_map)
#define IOCTL_VIRTGPU_EXECBUFFER VIRTGPU_IOWR(0x02, struct virtgpu_execbuffer)
#define IOCTL_VIRTGPU_GETPARAM VIRTGPU_IOWR(0x03, struct virtgpu_getparam)
#define IOCTL_VIRTGPU_RESOURCE_CREATE VIRTGPU_IOWR(0x04, struct virtgpu_resource_create)
#define IOCTL_VIRTGPU_TRANSFER_FROM_HOST VIRTGPU_IOWR(0x06, struct virtgpu_transfer)
#define IOCTL_VIRTGPU_TRANSFER_TO_HOST VIRTGPU_IOWR(0x07, struct virtgpu_transfer)
#define IOCTL_VIRTGPU_WAIT VIRTGPU_IOWR(0x08, struct virtgpu_wait)
#define IOCTL_VIRTGPU_GET_CAPS VIRTGPU_IOWR(0x09, struct virtgpu_get_caps)

#define VIRTGPU_PARAM_3D_FEATURES 1
#define VIRTGPU_PARAM_CAPSET_QUERY_FIX 2

/* ---- virgl protocol numbers (virgl_protocol.h, virgl_hw.h, gallium p_defines.h) ----------- */

enum {
   CCMD_CREATE_OBJECT = 1,
   CCMD_BIND_OBJECT = 2,
   CCMD_SET_VIEWPORT_STATE = 4,
   CCMD_SET_FRAMEBUFFER_STATE = 5,
   CCMD_SET_VERTEX_BUFFERS = 6,
   CCMD_CLEAR = 7,
   CCMD_DRAW_VBO = 8,
   CCMD_SET_SUB_CTX = 28,
   CCMD_CREATE_SUB_CTX = 29,
   CCMD_BIND_SHADER = 31,
};

enum {
   OBJ_BLEND = 1,
   OBJ_RASTERIZER = 2,
   OBJ_DSA = 3,
   OBJ_SHADER = 4,
   OBJ_VERTEX_ELEMENTS = 5,
   OBJ_SURFACE = 8,
};

#define CMD0(cmd, obj, len) ((uint32_t)(cmd) | ((uint32_t)(obj) << 8) | ((uint32_t)(len) << 16))

#define FORMAT_B8G8R8A8_UNORM 1
#define FORMAT_R32G32B32A32_FLOAT 31
#define FORMAT_R8_UNORM 64

#define BIND_RENDER_TARGET (1u << 1)
#define BIND_VERTEX_BUFFER (1u << 4)

#define TARGET_BUFFER 0
#define TARGET_TEXTURE_2D 2

#define SHADER_VERTEX 0
#define SHADER_FRAGMENT 1

#define CLEAR_COLOR0 (1u << 2)
#define PRIM_TRIANGLES 4

/* capset 2 (struct virgl_caps_v2) offsets and the values of virglrenderer 1.3.0 */
#define CAPSET_VIRGL2 2
#define CAPS_V2_SIZE 1408
#define CAPS_V1_SIZE_0_10 1376 /* what Debian's virglrenderer 0.10.4 reports */
#define CAPS_OFF_HOST_FEATURE_CHECK_VERSION 556
#define CAPS_OFF_RENDERER 696
#define HOST_FEATURE_CHECK_VERSION 23

/* ---- test parameters ------------------------------------------------------------------------ */

#define RT_W 64
#define RT_H 64
#define RT_BPP 4

/* Clear colour (RGBA): each component is an exact multiple of 1/255 after rounding. */
static const float clear_rgba[4] = {0.2f, 0.4f, 0.8f, 1.0f};
static const uint8_t clear_bgra[4] = {204, 102, 51, 255};
/* Triangle colour: opaque green, given to the fragment shader as an immediate. */
static const uint8_t tri_bgra[4] = {0, 255, 0, 255};

static const char vs_tgsi[] = "VERT\n"
                              "DCL IN[0]\n"
                              "DCL OUT[0], POSITION\n"
                              "  0: MOV OUT[0], IN[0]\n"
                              "  1: END\n";

static const char fs_tgsi[] = "FRAG\n"
                              "PROPERTY FS_COLOR0_WRITES_ALL_CBUFS 1\n"
                              "DCL OUT[0], COLOR\n"
                              "IMM[0] FLT32 {0x00000000, 0x3f800000, 0x00000000, 0x3f800000}\n"
                              "  0: MOV OUT[0], IMM[0]\n"
                              "  1: END\n";

/* Three vec4 positions in clip space: the triangle covers the centre, not the corners. */
static const float vertices[3][4] = {
   {-0.6f, -0.6f, 0.0f, 1.0f},
   {0.6f, -0.6f, 0.0f, 1.0f},
   {0.0f, 0.6f, 0.0f, 1.0f},
};

/* ---- reporting ------------------------------------------------------------------------------ */

static void report(int pass, const char *name, const char *fmt, ...)
{
   char detail[512];
   va_list ap;
   va_start(ap, fmt);
   vsnprintf(detail, sizeof(detail), fmt, ap);
   va_end(ap);
   printf("E2E: %s %s %s\n", pass ? "PASS" : "FAIL", name, detail);
   fflush(stdout);
}

static void note(const char *fmt, ...)
{
   va_list ap;
   va_start(ap, fmt);
   printf("E2E: note ");
   vprintf(fmt, ap);
   printf("\n");
   va_end(ap);
   fflush(stdout);
}

/* ---- command stream builder ----------------------------------------------------------------- */

struct cmdbuf {
   uint32_t dw[1024];
   uint32_t n;
   int overflow;
};

static void emit(struct cmdbuf *b, uint32_t v)
{
   if (b->n >= sizeof(b->dw) / sizeof(b->dw[0])) {
      b->overflow = 1;
      return;
   }
   b->dw[b->n++] = v;
}

static uint32_t fui(float f)
{
   uint32_t u;
   memcpy(&u, &f, sizeof(u));
   return u;
}

static void emit_f(struct cmdbuf *b, float f) { emit(b, fui(f)); }

static void emit_sub_ctx(struct cmdbuf *b, uint32_t sub_ctx)
{
   emit(b, CMD0(CCMD_CREATE_SUB_CTX, 0, 1));
   emit(b, sub_ctx);
   emit(b, CMD0(CCMD_SET_SUB_CTX, 0, 1));
   emit(b, sub_ctx);
}

static void emit_surface(struct cmdbuf *b, uint32_t handle, uint32_t res, uint32_t format)
{
   emit(b, CMD0(CCMD_CREATE_OBJECT, OBJ_SURFACE, 5));
   emit(b, handle);
   emit(b, res);
   emit(b, format);
   emit(b, 0); /* level */
   emit(b, 0); /* first_layer | last_layer << 16 */
}

static void emit_framebuffer(struct cmdbuf *b, uint32_t cbuf)
{
   emit(b, CMD0(CCMD_SET_FRAMEBUFFER_STATE, 0, 3));
   emit(b, 1); /* nr_cbufs */
   emit(b, 0); /* no depth/stencil surface */
   emit(b, cbuf);
}

static void emit_clear(struct cmdbuf *b, const float rgba[4])
{
   emit(b, CMD0(CCMD_CLEAR, 0, 8));
   emit(b, CLEAR_COLOR0);
   for (int i = 0; i < 4; i++)
      emit_f(b, rgba[i]);
   emit(b, 0); /* depth (double), low dword */
   emit(b, 0); /* depth, high dword */
   emit(b, 0); /* stencil */
}

static void emit_create_and_bind(struct cmdbuf *b, uint32_t type, uint32_t handle,
                                 const uint32_t *payload, uint32_t n)
{
   emit(b, CMD0(CCMD_CREATE_OBJECT, type, n + 1));
   emit(b, handle);
   for (uint32_t i = 0; i < n; i++)
      emit(b, payload[i]);
   emit(b, CMD0(CCMD_BIND_OBJECT, type, 1));
   emit(b, handle);
}

static void emit_shader(struct cmdbuf *b, uint32_t handle, uint32_t type, const char *text)
{
   uint32_t bytes = (uint32_t)strlen(text) + 1; /* the NUL travels with the text */
   uint32_t words = (bytes + 3) / 4;
   emit(b, CMD0(CCMD_CREATE_OBJECT, OBJ_SHADER, 5 + words));
   emit(b, handle);
   emit(b, type);
   emit(b, bytes); /* first (and only) chunk: the full length, no continuation bit */
   emit(b, 256);   /* number of TGSI tokens the host may allocate: generous for these shaders */
   emit(b, 0);     /* no stream output */
   for (uint32_t w = 0; w < words; w++) {
      uint32_t v = 0;
      for (uint32_t k = 0; k < 4; k++) {
         uint32_t i = w * 4 + k;
         if (i < bytes)
            v |= (uint32_t)(uint8_t)text[i] << (8 * k);
      }
      emit(b, v);
   }
   emit(b, CMD0(CCMD_BIND_SHADER, 0, 2));
   emit(b, handle);
   emit(b, type);
}

/* ---- ioctls ----------------------------------------------------------------------------------- */

static int xioctl(int fd, unsigned long req, void *arg)
{
   int r;
   do {
      r = ioctl(fd, req, arg);
   } while (r == -1 && (errno == EINTR || errno == EAGAIN));
   return r;
}

struct bo {
   uint32_t bo_handle;
   uint32_t res_handle;
   uint32_t size;
   uint8_t *map;
};

static int create_resource(int fd, struct bo *bo, uint32_t target, uint32_t format,
                           uint32_t bind, uint32_t width, uint32_t height, uint32_t size,
                           uint32_t stride)
{
   struct virtgpu_resource_create rc;
   memset(&rc, 0, sizeof(rc));
   rc.target = target;
   rc.format = format;
   rc.bind = bind;
   rc.width = width;
   rc.height = height;
   rc.depth = 1;
   rc.array_size = 1;
   rc.size = size;
   rc.stride = stride;
   if (xioctl(fd, IOCTL_VIRTGPU_RESOURCE_CREATE, &rc)) {
      note("RESOURCE_CREATE target %u format %u: %s", target, format, strerror(errno));
      return -1;
   }
   bo->bo_handle = rc.bo_handle;
   bo->res_handle = rc.res_handle;
   bo->size = size;

   struct virtgpu_map map;
   memset(&map, 0, sizeof(map));
   map.handle = bo->bo_handle;
   if (xioctl(fd, IOCTL_VIRTGPU_MAP, &map)) {
      note("MAP bo %u: %s", bo->bo_handle, strerror(errno));
      return -1;
   }
   void *ptr = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)map.offset);
   if (ptr == MAP_FAILED) {
      note("mmap bo %u: %s", bo->bo_handle, strerror(errno));
      return -1;
   }
   bo->map = ptr;
   return 0;
}

static int submit(int fd, struct cmdbuf *b, const uint32_t *bos, uint32_t num_bos)
{
   if (b->overflow) {
      note("command buffer overflow");
      return -1;
   }
   struct virtgpu_execbuffer eb;
   memset(&eb, 0, sizeof(eb));
   eb.size = b->n * 4;
   eb.command = (uint64_t)(uintptr_t)b->dw;
   eb.bo_handles = (uint64_t)(uintptr_t)bos;
   eb.num_bo_handles = num_bos;
   eb.fence_fd = -1;
   if (xioctl(fd, IOCTL_VIRTGPU_EXECBUFFER, &eb)) {
      note("EXECBUFFER (%u dwords): %s", b->n, strerror(errno));
      return -1;
   }
   return 0;
}

static int wait_bo(int fd, uint32_t bo_handle)
{
   struct virtgpu_wait w = {.handle = bo_handle, .flags = 0};
   if (xioctl(fd, IOCTL_VIRTGPU_WAIT, &w)) {
      note("WAIT bo %u: %s", bo_handle, strerror(errno));
      return -1;
   }
   return 0;
}

static int transfer(int fd, unsigned long req, uint32_t bo_handle, struct virtgpu_box box)
{
   struct virtgpu_transfer t;
   memset(&t, 0, sizeof(t));
   t.bo_handle = bo_handle;
   t.box = box;
   /* level 0, offset 0, stride 0, layer_stride 0: the host computes the layout (6.1 rule) */
   if (xioctl(fd, req, &t)) {
      note("TRANSFER_%s_HOST bo %u: %s",
           req == IOCTL_VIRTGPU_TRANSFER_FROM_HOST ? "FROM" : "TO", bo_handle, strerror(errno));
      return -1;
   }
   return 0;
}

/* Reads the render target back into its guest backing and waits for it. */
static int read_back(int fd, const struct bo *rt)
{
   struct virtgpu_box box = {0, 0, 0, RT_W, RT_H, 1};
   if (transfer(fd, IOCTL_VIRTGPU_TRANSFER_FROM_HOST, rt->bo_handle, box))
      return -1;
   return wait_bo(fd, rt->bo_handle);
}

static const uint8_t *pixel(const struct bo *rt, int x, int y)
{
   return rt->map + (size_t)y * RT_W * RT_BPP + (size_t)x * RT_BPP;
}

static int same_colour(const uint8_t *p, const uint8_t want[4])
{
   for (int i = 0; i < 4; i++)
      if (abs((int)p[i] - (int)want[i]) > 1)
         return 0;
   return 1;
}

static void describe(char *out, size_t n, const uint8_t *p)
{
   snprintf(out, n, "B%u G%u R%u A%u", p[0], p[1], p[2], p[3]);
}

/* ---- the checks ------------------------------------------------------------------------------- */

static int open_device(void)
{
   static const char *const nodes[] = {"/dev/dri/renderD128", "/dev/dri/card0"};
   for (unsigned i = 0; i < sizeof(nodes) / sizeof(nodes[0]); i++) {
      int fd = open(nodes[i], O_RDWR | O_CLOEXEC);
      if (fd >= 0) {
         note("opened %s", nodes[i]);
         return fd;
      }
      note("open %s: %s", nodes[i], strerror(errno));
   }
   return -1;
}

static int check_device(int fd)
{
   struct virtgpu_getparam gp;
   int value = 0;
   memset(&gp, 0, sizeof(gp));
   gp.param = VIRTGPU_PARAM_3D_FEATURES;
   gp.value = (uint64_t)(uintptr_t)&value;
   if (xioctl(fd, IOCTL_VIRTGPU_GETPARAM, &gp)) {
      report(0, "device", "GETPARAM 3D_FEATURES: %s", strerror(errno));
      return -1;
   }
   int fix = 0;
   gp.param = VIRTGPU_PARAM_CAPSET_QUERY_FIX;
   gp.value = (uint64_t)(uintptr_t)&fix;
   if (xioctl(fd, IOCTL_VIRTGPU_GETPARAM, &gp))
      fix = -1;
   report(value == 1, "device", "3d_features=%d capset_query_fix=%d", value, fix);
   return value == 1 ? 0 : -1;
}

/* Fetches capset 2 twice with different fill patterns: a byte the kernel copied differs from the
 * fill in at least one of the two, which gives the capset size the host reported. */
static int check_caps(int fd)
{
   static uint8_t a[4096], b[4096];
   uint8_t *bufs[2] = {a, b};
   const uint8_t fills[2] = {0xa5, 0x5a};
   for (int i = 0; i < 2; i++) {
      memset(bufs[i], fills[i], sizeof(a));
      struct virtgpu_get_caps gc;
      memset(&gc, 0, sizeof(gc));
      gc.cap_set_id = CAPSET_VIRGL2;
      gc.cap_set_ver = 2;
      gc.addr = (uint64_t)(uintptr_t)bufs[i];
      gc.size = sizeof(a);
      if (xioctl(fd, IOCTL_VIRTGPU_GET_CAPS, &gc)) {
         report(0, "caps", "GET_CAPS capset 2: %s", strerror(errno));
         return -1;
      }
   }
   size_t size = 0;
   for (size_t i = 0; i < sizeof(a); i++)
      if (a[i] != fills[0] || b[i] != fills[1])
         size = i + 1;
   uint32_t max_version, hfcv;
   memcpy(&max_version, a, 4);
   memcpy(&hfcv, a + CAPS_OFF_HOST_FEATURE_CHECK_VERSION, 4);
   char renderer[65] = {0};
   if (size >= CAPS_OFF_RENDERER + 64)
      memcpy(renderer, a + CAPS_OFF_RENDERER, 64);
   int ok = size == CAPS_V2_SIZE && max_version >= 2 && hfcv == HOST_FEATURE_CHECK_VERSION;
   report(ok, "caps",
          "size=%zu (want %d; %d means Debian's 0.10.4 answered) max_version=%u "
          "host_feature_check_version=%u (want %d) renderer=\"%s\"",
          size, CAPS_V2_SIZE, CAPS_V1_SIZE_0_10, max_version, hfcv, HOST_FEATURE_CHECK_VERSION,
          renderer);
   return ok ? 0 : -1;
}

static int check_clear(int fd, const struct bo *rt)
{
   struct cmdbuf b = {0};
   emit_sub_ctx(&b, 1);
   emit_surface(&b, 1, rt->res_handle, FORMAT_B8G8R8A8_UNORM);
   emit_framebuffer(&b, 1);
   emit_clear(&b, clear_rgba);
   memset(rt->map, 0, rt->size);
   if (submit(fd, &b, &rt->bo_handle, 1) || read_back(fd, rt)) {
      report(0, "clear", "submit or read-back failed");
      return -1;
   }
   int bad = 0, first_x = -1, first_y = -1;
   for (int y = 0; y < RT_H; y++)
      for (int x = 0; x < RT_W; x++)
         if (!same_colour(pixel(rt, x, y), clear_bgra)) {
            if (!bad++) {
               first_x = x;
               first_y = y;
            }
         }
   char got[64] = "";
   if (bad)
      describe(got, sizeof(got), pixel(rt, first_x, first_y));
   report(!bad, "clear", "%d of %d pixels differ from B%u G%u R%u A%u%s%s", bad, RT_W * RT_H,
          clear_bgra[0], clear_bgra[1], clear_bgra[2], clear_bgra[3], bad ? "; first: " : "",
          got);
   return bad ? -1 : 0;
}

static int check_triangle(int fd, const struct bo *rt, const struct bo *vb)
{
   memcpy(vb->map, vertices, sizeof(vertices));
   struct virtgpu_box vbox = {0, 0, 0, sizeof(vertices), 1, 1};
   if (transfer(fd, IOCTL_VIRTGPU_TRANSFER_TO_HOST, vb->bo_handle, vbox) ||
       wait_bo(fd, vb->bo_handle)) {
      report(0, "triangle", "vertex upload failed");
      return -1;
   }

   struct cmdbuf b = {0};
   /* the clear again, so this check stands on its own */
   emit_clear(&b, clear_rgba);

   uint32_t blend[10] = {0};
   for (int i = 0; i < 8; i++)
      blend[2 + i] = 0xfu << 27; /* colour mask RGBA, blending off */
   emit_create_and_bind(&b, OBJ_BLEND, 2, blend, 10);

   uint32_t dsa[4] = {0}; /* no depth, stencil or alpha test; alpha_ref 0.0 */
   emit_create_and_bind(&b, OBJ_DSA, 3, dsa, 4);

   uint32_t rs[8] = {0};
   rs[0] = (1u << 1)     /* depth_clip */
           | (1u << 15)  /* front_ccw */
           | (1u << 29); /* half_pixel_center */
   rs[1] = fui(1.0f);    /* point size */
   rs[4] = fui(1.0f);    /* line width */
   emit_create_and_bind(&b, OBJ_RASTERIZER, 4, rs, 8);

   uint32_t ve[4] = {0, 0, 0, FORMAT_R32G32B32A32_FLOAT}; /* offset, divisor, buffer, format */
   emit_create_and_bind(&b, OBJ_VERTEX_ELEMENTS, 5, ve, 4);

   emit_shader(&b, 6, SHADER_VERTEX, vs_tgsi);
   emit_shader(&b, 7, SHADER_FRAGMENT, fs_tgsi);

   emit(&b, CMD0(CCMD_SET_VIEWPORT_STATE, 0, 7));
   emit(&b, 0); /* start slot */
   emit_f(&b, RT_W / 2.0f);
   emit_f(&b, RT_H / 2.0f);
   emit_f(&b, 0.5f);
   emit_f(&b, RT_W / 2.0f);
   emit_f(&b, RT_H / 2.0f);
   emit_f(&b, 0.5f);

   emit(&b, CMD0(CCMD_SET_VERTEX_BUFFERS, 0, 3));
   emit(&b, sizeof(vertices[0])); /* stride */
   emit(&b, 0);                   /* offset */
   emit(&b, vb->res_handle);

   emit(&b, CMD0(CCMD_DRAW_VBO, 0, 12));
   emit(&b, 0);              /* start */
   emit(&b, 3);              /* count */
   emit(&b, PRIM_TRIANGLES); /* mode */
   emit(&b, 0);              /* indexed */
   emit(&b, 1);              /* instance count */
   emit(&b, 0);              /* index bias */
   emit(&b, 0);              /* start instance */
   emit(&b, 0);              /* primitive restart */
   emit(&b, 0);              /* restart index */
   emit(&b, 0);              /* min index */
   emit(&b, 0xffffffffu);    /* max index: bounds unknown, as Mesa sends */
   emit(&b, 0);              /* count from stream output */

   memset(rt->map, 0, rt->size);
   uint32_t bos[2] = {rt->bo_handle, vb->bo_handle};
   if (submit(fd, &b, bos, 2) || read_back(fd, rt)) {
      report(0, "triangle", "submit or read-back failed");
      return -1;
   }

   static const int corners[4][2] = {{0, 0}, {RT_W - 1, 0}, {0, RT_H - 1}, {RT_W - 1, RT_H - 1}};
   int corners_ok = 1;
   for (int i = 0; i < 4; i++)
      corners_ok &= same_colour(pixel(rt, corners[i][0], corners[i][1]), clear_bgra);
   const uint8_t *centre = pixel(rt, RT_W / 2, RT_H / 2);
   int centre_ok = same_colour(centre, tri_bgra);
   int covered = 0, other = 0;
   for (int y = 0; y < RT_H; y++)
      for (int x = 0; x < RT_W; x++) {
         const uint8_t *p = pixel(rt, x, y);
         if (same_colour(p, tri_bgra))
            covered++;
         else if (!same_colour(p, clear_bgra))
            other++;
      }
   /* area: half of 1.2 x 1.2 of the 2 x 2 clip square, 18% of the target */
   int expected = (int)lround(0.18 * RT_W * RT_H);
   int area_ok = abs(covered - expected) <= expected / 10 && other == 0;
   char c[64], c0[64];
   describe(c, sizeof(c), centre);
   describe(c0, sizeof(c0), pixel(rt, 0, 0));
   int ok = corners_ok && centre_ok && area_ok;
   report(ok, "triangle",
          "centre %s (want B0 G255 R0 A255), corner %s, %d triangle pixels (want ~%d), "
          "%d pixels of neither colour",
          c, c0, covered, expected, other);
   return ok ? 0 : -1;
}

int main(void)
{
   setvbuf(stdout, NULL, _IOLBF, 0);
   const char *device = "FAIL", *caps = "FAIL", *clear = "SKIP", *triangle = "SKIP";
   int status = 0;
   int fd = open_device();
   if (fd < 0) {
      report(0, "device", "no virtio-gpu DRM node");
      status |= 1;
      goto out;
   }
   if (check_device(fd)) {
      status |= 1;
      goto out;
   }
   device = "PASS";
   if (check_caps(fd))
      status |= 1; /* keep going: the rendering checks say more */
   else
      caps = "PASS";

   struct bo rt = {0}, vb = {0};
   if (create_resource(fd, &rt, TARGET_TEXTURE_2D, FORMAT_B8G8R8A8_UNORM, BIND_RENDER_TARGET,
                       RT_W, RT_H, RT_W * RT_H * RT_BPP, RT_W * RT_BPP) ||
       create_resource(fd, &vb, TARGET_BUFFER, FORMAT_R8_UNORM, BIND_VERTEX_BUFFER,
                       sizeof(vertices), 1, sizeof(vertices), 0)) {
      report(0, "resources", "could not create the render target and the vertex buffer");
      status |= 1;
      goto out;
   }
   note("render target res %u (bo %u), vertex buffer res %u (bo %u)", rt.res_handle,
        rt.bo_handle, vb.res_handle, vb.bo_handle);

   if (check_clear(fd, &rt)) {
      status |= 2;
      clear = "FAIL";
   } else {
      clear = "PASS";
   }
   if (check_triangle(fd, &rt, &vb)) {
      status |= 4;
      triangle = "FAIL";
   } else {
      triangle = "PASS";
   }

out:
   printf("E2E-RESULT device=%s caps=%s clear=%s triangle=%s\n", device, caps, clear, triangle);
   fflush(stdout);
   return status;
}
