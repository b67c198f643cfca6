/*
 * Blob resources through the C ABI:
 *
 *   - BLOB_MEM_GUEST blobs over the VMM's iovecs: created, refused when malformed, and (as
 *     virgl-rs documents) neither mappable nor exportable by the library, because guest memory
 *     is the VMM's to map;
 *   - an SHM memfd imported with import_blob: the library owns the fd, maps it, exports a new fd
 *     for the same memory, and closes its fd when the resource goes;
 *   - fd accounting: /proc/self/fd counts before and after, so no path leaks or double-closes.
 */
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define CTX_ID 1
#define RES_GUEST 30
#define RES_IMPORT 31
#define RES_SPARE 32
#define BLOB_SIZE 8192

static void cb_write_fence(void *cookie, uint32_t fence)
{
   (void)cookie;
   (void)fence;
}

static int fd_is_open(int fd)
{
   return fcntl(fd, F_GETFD) != -1 || errno != EBADF;
}

static int make_memfd(size_t size, uint8_t seed)
{
   int fd = memfd_create("virgl-rs-blob-test", MFD_CLOEXEC);
   REQUIRE(fd >= 0, "memfd_create: %s", strerror(errno));
   REQUIRE(ftruncate(fd, (off_t)size) == 0, "ftruncate");
   uint8_t *bytes = malloc(size);
   REQUIRE(bytes, "malloc");
   for (size_t i = 0; i < size; i++)
      bytes[i] = (uint8_t)(seed + i * 13);
   REQUIRE(pwrite(fd, bytes, size, 0) == (ssize_t)size, "pwrite");
   free(bytes);
   return fd;
}

static void guest_blobs(void)
{
   STEP("BLOB_MEM_GUEST over two iovecs");
   uint8_t *page0 = calloc(1, 4096), *page1 = calloc(1, BLOB_SIZE - 4096);
   REQUIRE(page0 && page1, "calloc");
   struct iovec iov[2] = {
      {.iov_base = page0, .iov_len = 4096},
      {.iov_base = page1, .iov_len = BLOB_SIZE - 4096},
   };
   struct virgl_renderer_resource_create_blob_args args = {
      .res_handle = RES_GUEST,
      .ctx_id = CTX_ID,
      .blob_mem = VIRGL_RENDERER_BLOB_MEM_GUEST,
      .blob_flags = VIRGL_RENDERER_BLOB_FLAG_USE_MAPPABLE,
      .blob_id = 0,
      .size = BLOB_SIZE,
      .iovecs = iov,
      .num_iovs = 2,
   };

   struct virgl_renderer_resource_create_blob_args bad = args;
   bad.res_handle = 0;
   CHECK(virgl_renderer_resource_create_blob(&bad) == -EINVAL, "handle 0");
   bad = args;
   bad.size = 0;
   CHECK(virgl_renderer_resource_create_blob(&bad) == -EINVAL, "size 0");
   bad = args;
   bad.size = BLOB_SIZE + 1;
   CHECK(virgl_renderer_resource_create_blob(&bad) == -EINVAL, "size beyond the iovecs");
   bad = args;
   bad.blob_mem = 9;
   CHECK(virgl_renderer_resource_create_blob(&bad) == -EINVAL, "blob_mem 9");
   bad = args;
   bad.blob_mem = VIRGL_RENDERER_BLOB_MEM_HOST3D;
   CHECK(virgl_renderer_resource_create_blob(&bad) == -EINVAL, "HOST3D with iovecs");
   CHECK(virgl_renderer_resource_create_blob(NULL) == -EINVAL, "NULL args");

   int ret = virgl_renderer_resource_create_blob(&args);
   REQUIRE(ret == 0, "create_blob(GUEST): %d", ret);
   CHECK(virgl_renderer_resource_create_blob(&args) == -EINVAL, "duplicate id");

   /*
    * Guest memory is the VMM's to map: the library refuses to map or export it. (Upstream 1.3.0
    * also refuses the map; it answers get_map_info with CACHED where virgl-rs has no map_info.)
    */
   void *map = (void *)1;
   uint64_t map_size = 77;
   ret = virgl_renderer_resource_map(RES_GUEST, &map, &map_size);
   CHECK(ret == -EINVAL, "map of a guest blob: %d", ret);
   CHECK(map == (void *)1 && map_size == 77, "failed map wrote its out parameters");
   CHECK(virgl_renderer_resource_unmap(RES_GUEST) == -EINVAL, "unmap of an unmapped blob");
   uint32_t map_info = 0xdead;
   ret = virgl_renderer_resource_get_map_info(RES_GUEST, &map_info);
   CHECK(ret == -EINVAL, "get_map_info of a guest blob: %d (map_info %#x)", ret, map_info);
   uint32_t fd_type = 0xdead;
   int fd = -7;
   ret = virgl_renderer_resource_export_blob(RES_GUEST, &fd_type, &fd);
   CHECK(ret == -EINVAL && fd == -7, "export of a guest blob: %d, fd %d", ret, fd);
   struct virgl_renderer_resource_info info;
   CHECK(virgl_renderer_resource_get_info(RES_GUEST, &info) == EINVAL,
         "get_info of an untyped blob");

   struct virgl_renderer_export_query query = {
      .hdr = {.stype = 1, .stype_version = 0, .size = sizeof(query)},
      .in_resource_id = RES_GUEST,
   };
   ret = virgl_renderer_execute(&query, sizeof(query));
   CHECK(ret == 0 && query.out_num_fds == 1 && query.out_fds[0] == -1,
         "export_query of an untyped blob: %d, %u fds, fd %d", ret, query.out_num_fds,
         query.out_fds[0]);

   virgl_renderer_resource_unref(RES_GUEST);
   CHECK(virgl_renderer_resource_map(RES_GUEST, &map, &map_size) == -EINVAL, "after unref");
   free(page0);
   free(page1);
}

static void imported_blobs(int fd_baseline)
{
   STEP("import_blob of an SHM memfd");
   int memfd = make_memfd(BLOB_SIZE, 3);
   CHECK(count_fds() == fd_baseline + 1, "memfd not counted");
   struct virgl_renderer_resource_import_blob_args args = {
      .res_handle = RES_IMPORT,
      .blob_mem = VIRGL_RENDERER_BLOB_MEM_HOST3D,
      .fd_type = VIRGL_RENDERER_BLOB_FD_TYPE_SHM,
      .fd = memfd,
      .size = BLOB_SIZE,
   };

   /* Refusals leave the caller's fd open and its own. */
   struct virgl_renderer_resource_import_blob_args bad = args;
   bad.res_handle = 0;
   CHECK(virgl_renderer_resource_import_blob(&bad) == -EINVAL, "handle 0");
   bad = args;
   bad.blob_mem = VIRGL_RENDERER_BLOB_MEM_GUEST;
   CHECK(virgl_renderer_resource_import_blob(&bad) == -EINVAL, "blob_mem GUEST");
   bad = args;
   bad.fd_type = 9;
   CHECK(virgl_renderer_resource_import_blob(&bad) == -EINVAL, "fd_type 9");
   bad = args;
   bad.fd = -1;
   CHECK(virgl_renderer_resource_import_blob(&bad) == -EINVAL, "fd -1");
   bad = args;
   bad.size = 0;
   CHECK(virgl_renderer_resource_import_blob(&bad) == -EINVAL, "size 0");
   CHECK(virgl_renderer_resource_import_blob(NULL) == -EINVAL, "NULL args");
   CHECK(fd_is_open(memfd), "a refused import closed the caller's fd");

   /* A memfd smaller than the size claimed: mapping it would fault. */
   int small = make_memfd(4096, 1);
   bad = args;
   bad.res_handle = RES_SPARE;
   bad.fd = small;
   {
      int ret = virgl_renderer_resource_import_blob(&bad);
      if (ret == 0) {
         /* Accepted (upstream does not check): then the library owns `small`. */
         printf("note: import of a too-small memfd accepted\n");
         virgl_renderer_resource_unref(RES_SPARE);
         CHECK(count_fds() == fd_baseline + 1, "the library kept the fd of an unref'd import");
      } else {
         CHECK(ret == -EINVAL, "too-small memfd: %d", ret);
         CHECK(fd_is_open(small), "a refused import closed the caller's fd");
         close(small);
      }
   }
   CHECK(count_fds() == fd_baseline + 1, "fds after the refused imports: %d, want %d",
         count_fds(), fd_baseline + 1);

   struct stat st_memfd;
   REQUIRE(fstat(memfd, &st_memfd) == 0, "fstat");
   const ino_t memfd_ino = st_memfd.st_ino;
   const dev_t memfd_dev = st_memfd.st_dev;
   int ret = virgl_renderer_resource_import_blob(&args);
   REQUIRE(ret == 0, "import_blob(SHM): %d", ret);
   /*
    * The library owns memfd from here on (it may keep that fd or a duplicate of it: the caller
    * must not touch the number either way). Exactly one fd stays open for the import.
    */
   CHECK(count_fds() == fd_baseline + 1, "fds with the import: %d, want %d", count_fds(),
         fd_baseline + 1);
   CHECK(virgl_renderer_resource_import_blob(&args) == -EINVAL, "duplicate id");

   uint32_t map_info = 0xdead;
   ret = virgl_renderer_resource_get_map_info(RES_IMPORT, &map_info);
   CHECK(ret == -EINVAL, "get_map_info of an import (upstream: no map_info): %d", ret);

   STEP("map the import (upstream maps SHM and dma-buf imports with mmap)");
   void *map = NULL;
   uint64_t map_size = 0;
   ret = virgl_renderer_resource_map(RES_IMPORT, &map, &map_size);
   CHECK(ret == 0, "map of an SHM import: %d", ret);
   if (ret == 0) {
      CHECK(map_size == BLOB_SIZE, "map size %llu", (unsigned long long)map_size);
      const uint8_t *bytes = map;
      int bad_bytes = 0;
      for (size_t i = 0; i < BLOB_SIZE; i++)
         bad_bytes += bytes[i] != (uint8_t)(3 + i * 13);
      CHECK(bad_bytes == 0, "%d bytes of the mapping differ from the memfd", bad_bytes);
      ((uint8_t *)map)[100] = 0x5a;
      CHECK(virgl_renderer_resource_unmap(RES_IMPORT) == 0, "unmap");
      CHECK(virgl_renderer_resource_unmap(RES_IMPORT) == -EINVAL, "second unmap");
   }

   STEP("export_blob round trip");
   uint32_t fd_type = 0;
   int exported = -1;
   ret = virgl_renderer_resource_export_blob(RES_IMPORT, &fd_type, &exported);
   CHECK(ret == 0, "export_blob: %d", ret);
   if (ret == 0) {
      CHECK(fd_type == VIRGL_RENDERER_BLOB_FD_TYPE_SHM, "fd_type %u", fd_type);
      CHECK(exported >= 0, "exported fd %d", exported);
      CHECK(count_fds() == fd_baseline + 2, "fds with an export: %d, want %d", count_fds(),
            fd_baseline + 2);
      struct stat st_export;
      CHECK(fstat(exported, &st_export) == 0 && st_export.st_ino == memfd_ino &&
               st_export.st_dev == memfd_dev,
            "the exported fd is not the imported memory");
      uint8_t *view = mmap(NULL, BLOB_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, exported, 0);
      CHECK(view != MAP_FAILED, "mmap of the exported fd");
      if (view != MAP_FAILED) {
         uint8_t want = map ? 0x5a : (uint8_t)(3 + 100 * 13);
         CHECK(view[100] == want, "byte 100 is %#x, want %#x", view[100], want);
         CHECK(view[101] == (uint8_t)(3 + 101 * 13), "byte 101 is %#x", view[101]);
         munmap(view, BLOB_SIZE);
      }
      close(exported);
   }
   ret = virgl_renderer_resource_export_blob(RES_IMPORT, NULL, &exported);
   CHECK(ret == -EINVAL, "export_blob with NULL fd_type: %d", ret);
   ret = virgl_renderer_resource_export_blob(999, &fd_type, &exported);
   CHECK(ret == -EINVAL, "export_blob of an unknown resource: %d", ret);
   CHECK(count_fds() == fd_baseline + 1, "fds after closing the export: %d, want %d",
         count_fds(), fd_baseline + 1);

   STEP("unref closes the imported fd");
   virgl_renderer_resource_unref(RES_IMPORT);
   CHECK(count_fds() == fd_baseline, "fds after unref: %d, want %d", count_fds(), fd_baseline);
}

int main(void)
{
   setvbuf(stdout, NULL, _IOLBF, 0);
   check_library_is_ours();

   static struct virgl_renderer_callbacks cbs = {.version = 1, .write_fence = cb_write_fence};
   static int cookie;
   int ret = virgl_renderer_init(&cookie, VIRGL_RENDERER_USE_EGL | VIRGL_RENDERER_USE_SURFACELESS,
                                 &cbs);
   REQUIRE(ret == 0, "virgl_renderer_init: %d", ret);
   ret = virgl_renderer_context_create(CTX_ID, 4, "blob");
   REQUIRE(ret == 0, "context_create: %d", ret);

   /* GL and EGL have opened what they keep open; from here on the count must come back. */
   int fd_baseline = count_fds();
   printf("fds after init: %d\n", fd_baseline);

   guest_blobs();
   CHECK(count_fds() == fd_baseline, "fds after the guest blobs: %d, want %d", count_fds(),
         fd_baseline);
   imported_blobs(fd_baseline);

   virgl_renderer_context_destroy(CTX_ID);
   CHECK(count_fds() == fd_baseline, "fds after context_destroy: %d, want %d", count_fds(),
         fd_baseline);
   virgl_renderer_cleanup(&cookie);
   printf("fds after cleanup: %d\n", count_fds());
   return finish("blob");
}
