// SPDX-License-Identifier: GPL-2.0
/*
 * lastboot_kmemcpy: the kernel reference of make bench.  Loading it copies
 * part of a reserve_mem region with the kernel's memcpy(), through a vmap()
 * of the region made for the copy, into a buffer vmalloc()ed for it.  Each
 * round maps and allocates afresh.
 *
 * make bench points it at a region nobody has used since the guest started,
 * so that its first copy reads pages for the first time, as the boot reads
 * the persistent region: under QEMU on a virtualised build machine a first
 * touch of a guest page costs microseconds in the host, which a reference
 * over pages touched before would not pay.  With touch_dst the buffer is
 * written before the timed copy (a read of the region once); without, the
 * copy writes fresh pages too, as the copy into a backup instance does.
 * touch_src bytes of the region are read before the first copy: the boot
 * validates CPU 0's part of the persistent region before it copies it.
 *
 * Parameters: region (the reserve_mem name), offset and bytes (the part to
 * copy, page aligned), rounds, touch_dst, touch_src.  Prints one line per
 * round: "lastboot_kmemcpy: <bytes> bytes: vmalloc <ns> ns, memcpy <ns> ns".
 * The module stays loaded until rmmod, so that a load that printed its
 * figures reads as success.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/ktime.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/vmalloc.h>

static char *region = "trace";
module_param(region, charp, 0444);
MODULE_PARM_DESC(region, "reserve_mem name of the region to copy");
static unsigned long offset;
module_param(offset, ulong, 0444);
MODULE_PARM_DESC(offset, "offset of the part to copy in the region");
static unsigned long bytes;
module_param(bytes, ulong, 0444);
MODULE_PARM_DESC(bytes, "bytes to copy (default: to the end of the region)");
static int rounds = 5;
module_param(rounds, int, 0444);
MODULE_PARM_DESC(rounds, "number of copies, each into fresh mappings");
static bool touch_dst;
module_param(touch_dst, bool, 0444);
MODULE_PARM_DESC(touch_dst, "write the buffer before the timed copy");
static unsigned long touch_src;
module_param(touch_src, ulong, 0444);
MODULE_PARM_DESC(touch_src, "bytes of the part to read before the first copy");

static int copy_once(phys_addr_t start, unsigned long len, unsigned long pre_read)
{
	unsigned long i, npages = len >> PAGE_SHIFT;
	struct page **pages;
	u64 t0, t1, t2, alloc_ns;
	void *src, *dst;
	int ret = 0;

	pages = kvmalloc_array(npages, sizeof(*pages), GFP_KERNEL);
	if (!pages)
		return -ENOMEM;
	for (i = 0; i < npages; i++)
		pages[i] = pfn_to_page(PHYS_PFN(start) + i);
	src = vmap(pages, npages, VM_MAP, PAGE_KERNEL);
	kvfree(pages);
	if (!src)
		return -ENOMEM;

	for (i = 0; i < pre_read; i += sizeof(long))
		(void)READ_ONCE(*(long *)(src + i));

	t0 = ktime_get_ns();
	dst = vmalloc(len);
	t1 = ktime_get_ns();
	if (!dst) {
		ret = -ENOMEM;
		goto unmap;
	}
	alloc_ns = t1 - t0;
	if (touch_dst) {
		memset(dst, 0, len);
		t1 = ktime_get_ns();
	}
	memcpy(dst, src, len);
	t2 = ktime_get_ns();

	/* A copy that is not one would make a meaningless reference. */
	if (memcmp(dst, src, len)) {
		pr_err("the copy differs from the region\n");
		ret = -EIO;
	} else {
		pr_info("%lu bytes: vmalloc %llu ns, memcpy %llu ns\n",
			len, alloc_ns, t2 - t1);
	}
	vfree(dst);
unmap:
	vunmap(src);
	return ret;
}

static int __init kmemcpy_init(void)
{
	phys_addr_t start, size;
	unsigned long len;
	int i, ret;

	if (rounds < 1) {
		pr_err("rounds must be at least 1, not %d\n", rounds);
		return -EINVAL;
	}
	if (!reserve_mem_find_by_name(region, &start, &size)) {
		pr_err("no reserve_mem region named '%s'\n", region);
		return -ENOENT;
	}
	if (!PAGE_ALIGNED(start) || !PAGE_ALIGNED(offset) || offset >= size) {
		pr_err("offset %lu is not a page of the region (%pa bytes at %pa)\n",
		       offset, &size, &start);
		return -EINVAL;
	}
	len = bytes ? bytes : size - offset;
	if (!PAGE_ALIGNED(len) || len > size - offset || touch_src > len) {
		pr_err("%lu bytes at offset %lu (%lu read first) do not fit the region (%pa bytes)\n",
		       len, offset, touch_src, &size);
		return -EINVAL;
	}
	for (i = 0; i < rounds; i++) {
		ret = copy_once(start + offset, len, i ? 0 : touch_src);
		if (ret)
			return ret;
	}
	return 0;
}

static void __exit kmemcpy_exit(void)
{
}

module_init(kmemcpy_init);
module_exit(kmemcpy_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("make bench: kernel memcpy of a reserve_mem region");
