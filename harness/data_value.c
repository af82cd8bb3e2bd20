/* SPDX-License-Identifier: MIT */
/*
 * data_value.c - describing page contents and judging where they may be read
 * (data_value.h).  A file's harness number is its core id: every harness
 * creates its files first and in order, so file i has id i.
 */
#include <stdio.h>

#include "data_value.h"
#include "folio/page_data.h"

static void describe_key(uint32_t key, char *buf, size_t n)
{
	if (key & FT_DATA_KEY_FILE)
		snprintf(buf, n, "file %u index %u", (key >> 24) & 7u,
			 key & 0xffffffu);
	else
		snprintf(buf, n, "anon va %u", key);
}

void ft_data_describe(uint64_t v, char *buf, size_t n)
{
	char where[48];

	if (!v) {
		snprintf(buf, n, "0 (zero-filled)");
	} else if (page_data_is_file(v)) {
		snprintf(buf, n, "%#llx (file %u index %lu version %lu, as read "
			 "from disk)", (unsigned long long)v, page_data_file_id(v),
			 page_data_file_index(v), page_data_file_version(v));
	} else if (PAGE_DATA_TAG(v) == PAGE_DATA_TAG_POISON) {
		snprintf(buf, n, "%#llx (never written since the world began: "
			 "pfn %llu's poison)", (unsigned long long)v,
			 (unsigned long long)(v ^ PAGE_DATA_POISON));
	} else if (ft_data_is_ours(v)) {
		describe_key(ft_data_key(v), where, sizeof(where));
		snprintf(buf, n, "%#llx (written by writer %u through mm %u, #%lu, "
			 "for %s)", (unsigned long long)v, ft_data_writer(v),
			 ft_data_mm(v), ft_data_seq(v), where);
	} else {
		snprintf(buf, n, "%#llx (nobody writes such a value)",
			 (unsigned long long)v);
	}
}

const char *ft_data_illegit(uint64_t v, uint32_t key, unsigned long file_version)
{
	bool file = key & FT_DATA_KEY_FILE;

	if (ft_data_is_ours(v))
		return ft_data_key(v) == key ? NULL :
		       "a value written for another place";
	if (!v)
		return file ? "zero in a file page (a page-cache insert fills it)" :
			      NULL;
	if (page_data_is_file(v)) {
		if (!file)
			return "a file's content in an anon page";
		if (page_data_file_id(v) != ((key >> 24) & 7u) ||
		    page_data_file_index(v) != (key & 0xffffffu))
			return "another file page's content";
		if (page_data_version_after(page_data_file_version(v),
					    file_version & 0xffffffffu))
			return "a file version newer than the file's";
		return NULL;
	}
	if (PAGE_DATA_TAG(v) == PAGE_DATA_TAG_POISON)
		return "a page never written since the world began (not zero-filled)";
	return "a value nobody writes";
}
