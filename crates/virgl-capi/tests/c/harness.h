/*
 * Shared helpers of the C ABI tests: checks that keep going (so that one run reports every
 * failure), a tiny virgl command encoder (the dwords Mesa's virgl_encode.c would send), and an
 * fd counter for leak checks.
 *
 * Each test program includes this once; everything here is static.
 */
#ifndef VIRGL_RS_TEST_HARNESS_H
#define VIRGL_RS_TEST_HARNESS_H

#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "virglrenderer.h"

/* Helpers a program may not use: no -Wunused-function for them. */
#define HELPER static __attribute__((unused))

static int failures;

/*
 * virglrenderer.h only declares struct virgl_box (upstream defines it in virgl_hw.h, which it
 * does not install): embedders define the six dwords themselves.
 */
struct virgl_box {
   uint32_t x, y, z, w, h, d;
};

/* A failed expectation: printed, counted, the test carries on. */
#define CHECK(cond, ...)                                                                   \
   do {                                                                                    \
      if (!(cond)) {                                                                       \
         fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);                   \
         fprintf(stderr, __VA_ARGS__);                                                     \
         fputc('\n', stderr);                                                              \
         failures++;                                                                       \
      }                                                                                    \
   } while (0)

/* A failed precondition: nothing after it can be meaningful, so the program stops. */
#define REQUIRE(cond, ...)                                                                 \
   do {                                                                                    \
      if (!(cond)) {                                                                       \
         fprintf(stderr, "FATAL %s:%d: %s: ", __FILE__, __LINE__, #cond);                  \
         fprintf(stderr, __VA_ARGS__);                                                     \
         fputc('\n', stderr);                                                              \
         exit(2);                                                                          \
      }                                                                                    \
   } while (0)

#define STEP(...)                                                                          \
   do {                                                                                    \
      printf("-- ");                                                                       \
      printf(__VA_ARGS__);                                                                 \
      putchar('\n');                                                                       \
      fflush(stdout);                                                                      \
   } while (0)

HELPER int finish(const char *name)
{
   if (failures) {
      fprintf(stderr, "%s: %d check(s) failed\n", name, failures);
      return 1;
   }
   printf("%s: all checks passed\n", name);
   return 0;
}

/*
 * A system libvirglrenderer.so.1 may be installed: make sure the loader gave us the one the
 * test harness put under $VIRGL_TEST_LIB_DIR.
 */
HELPER void check_library_is_ours(void)
{
   Dl_info where;
   REQUIRE(dladdr((void *)virgl_renderer_init, &where) && where.dli_fname,
           "dladdr(virgl_renderer_init)");
   char resolved[4096];
   const char *path = realpath(where.dli_fname, resolved) ? resolved : where.dli_fname;
   printf("libvirglrenderer.so.1 loaded from %s\n", where.dli_fname);
   const char *expected_dir = getenv("VIRGL_TEST_LIB_DIR");
   if (expected_dir) {
      REQUIRE(strncmp(where.dli_fname, expected_dir, strlen(expected_dir)) == 0,
              "loaded %s, not the library under %s", where.dli_fname, expected_dir);
   }
   REQUIRE(strstr(path, "virgl_capi") != NULL, "%s is not virgl-rs's library", path);
}

/* ---- virgl command stream (virgl_protocol.h numbers) ---- */

#define CCMD_NOP 0
#define CCMD_CREATE_OBJECT 1
#define CCMD_SET_FRAMEBUFFER_STATE 5
#define CCMD_CLEAR 7
#define OBJ_SURFACE 8
#define PIPE_CLEAR_COLOR0 (1u << 2)

#define PIPE_TEXTURE_2D 2
#define VFMT_B8G8R8A8_UNORM 1

struct cmdbuf {
   uint32_t dw[512];
   unsigned n;
};

/* VIRGL_CMD0(cmd, obj, len): 8-bit command, 8-bit object type, 16-bit payload length. */
HELPER void emit_header(struct cmdbuf *b, uint32_t cmd, uint32_t obj, uint32_t len)
{
   REQUIRE(b->n + 1 + len <= sizeof(b->dw) / sizeof(b->dw[0]), "command buffer full");
   b->dw[b->n++] = cmd | (obj << 8) | (len << 16);
}

HELPER void emit(struct cmdbuf *b, uint32_t dword)
{
   b->dw[b->n++] = dword;
}

HELPER uint32_t fui(float f)
{
   uint32_t u;
   memcpy(&u, &f, sizeof(u));
   return u;
}

/* A surface on level `level`, layers first..last of a texture (VIRGL_OBJ_SURFACE_SIZE = 5). */
HELPER void emit_create_surface(struct cmdbuf *b, uint32_t handle, uint32_t res_handle,
                                uint32_t format, uint32_t level, uint32_t first_layer,
                                uint32_t last_layer)
{
   emit_header(b, CCMD_CREATE_OBJECT, OBJ_SURFACE, 5);
   emit(b, handle);
   emit(b, res_handle);
   emit(b, format);
   emit(b, level);
   emit(b, first_layer | (last_layer << 16));
}

HELPER void emit_set_framebuffer(struct cmdbuf *b, uint32_t nr_cbufs, const uint32_t *cbufs,
                                 uint32_t zsurf)
{
   emit_header(b, CCMD_SET_FRAMEBUFFER_STATE, 0, nr_cbufs + 2);
   emit(b, nr_cbufs);
   emit(b, zsurf);
   for (uint32_t i = 0; i < nr_cbufs; i++)
      emit(b, cbufs[i]);
}

/* VIRGL_OBJ_CLEAR_SIZE = 8: buffers, 4 colour dwords, depth as a double, stencil. */
HELPER void emit_clear(struct cmdbuf *b, uint32_t buffers, const float rgba[4], double depth,
                       uint32_t stencil)
{
   uint64_t depth_bits;
   memcpy(&depth_bits, &depth, sizeof(depth_bits));
   emit_header(b, CCMD_CLEAR, 0, 8);
   emit(b, buffers);
   for (int i = 0; i < 4; i++)
      emit(b, fui(rgba[i]));
   emit(b, (uint32_t)depth_bits);
   emit(b, (uint32_t)(depth_bits >> 32));
   emit(b, stencil);
}

/* ---- fds ---- */

/* Open fds of this process (the directory stream's own fd excluded). */
HELPER int count_fds(void)
{
   DIR *dir = opendir("/proc/self/fd");
   REQUIRE(dir != NULL, "opendir /proc/self/fd");
   int count = 0;
   struct dirent *entry;
   while ((entry = readdir(dir)) != NULL) {
      if (entry->d_name[0] != '.')
         count++;
   }
   closedir(dir);
   return count - 1;
}

#endif
