/* SPDX-License-Identifier: MIT */
/*
 * data_value.h - the values the harness programs write into pages, and what a
 * value read at a place may legitimately be (docs/design.md 5.16).
 *
 * Every value a harness writes is signed: who wrote it (a thread or
 * worker, the mm it wrote through) and when (its sequence number), and for
 * which place (the "key": an anon address, or a file and index).  So a
 * read that returns a value names its writer in a report, and a value
 * found at a place it was not written for is a leak, whatever the counts
 * say.  The pages' other contents come from the core (folio/page_data.h):
 * 0 (an anon fault's zero-fill), a file's content at some version, the
 * world's "never written" poison.
 *
 *   bits 60-63  FT_DATA_TAG (5)
 *   bits 56-59  mm the writer wrote through (an anon key's; 0-15)
 *   bits 48-55  writer (thread, worker)
 *   bits 28-47  sequence (20 bits; wraps)
 *   bits 0-27   key: bit 27 set: a file page, bits 24-26 the file, 0-23
 *               the index; clear: an anon address, bits 0-23 (in pages)
 *
 * Anon keys leave the mm out: fork gives the child the parent's data at
 * the same address, so a parent's value in the child is legitimate there;
 * which mm may see which write is the business of the oracles that track
 * writes (fuzz/exec_data.c, stress/data.c), not of the value.
 */
#ifndef FT_HARNESS_DATA_H
#define FT_HARNESS_DATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FT_DATA_TAG 0x5u
#define FT_DATA_KEY_FILE (1u << 27)
#define FT_DATA_KEY_MASK ((1u << 28) - 1)

static inline uint32_t ft_data_key_anon(unsigned long va)
{
	return (uint32_t)(va & 0xffffffu);
}
static inline uint32_t ft_data_key_file(unsigned int file, unsigned long index)
{
	return FT_DATA_KEY_FILE | (file & 7u) << 24 | (uint32_t)(index & 0xffffffu);
}
static inline uint64_t ft_data_value(unsigned int mm, unsigned int writer,
				     unsigned long seq, uint32_t key)
{
	return (uint64_t)FT_DATA_TAG << 60 | (uint64_t)(mm & 15u) << 56 |
	       (uint64_t)(writer & 0xffu) << 48 |
	       (uint64_t)(seq & 0xfffffu) << 28 | (key & FT_DATA_KEY_MASK);
}
static inline bool ft_data_is_ours(uint64_t v)
{
	return (v >> 60) == FT_DATA_TAG;
}
static inline uint32_t ft_data_key(uint64_t v)
{
	return (uint32_t)(v & FT_DATA_KEY_MASK);
}
static inline unsigned int ft_data_mm(uint64_t v)
{
	return (unsigned int)(v >> 56) & 15u;
}
static inline unsigned int ft_data_writer(uint64_t v)
{
	return (unsigned int)(v >> 48) & 0xffu;
}
static inline unsigned long ft_data_seq(uint64_t v)
{
	return (unsigned long)(v >> 28) & 0xfffffu;
}

/* What @v is, in words: "0 (zero-filled)", "file 1 index 5 version 2",
 * "written by writer 3 through mm 0, #17, for anon va 12", ... */
void ft_data_describe(uint64_t v, char *buf, size_t n);

/*
 * May @v be read at the place @key?  An anon place: 0 (never written
 * since its fault) or a value written for that address.  A file page:
 * the file's content for that index at a version not newer than
 * @file_version, or a value written for that file page.  Returns NULL if
 * so, else why not (a static string).
 */
const char *ft_data_illegit(uint64_t v, uint32_t key, unsigned long file_version);

#endif /* FT_HARNESS_DATA_H */
