/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The module cache. Files are parsed with libelf (elfutils) opened with
 * ELF_C_READ, which copies what it reads: a target that truncates its own
 * file while it is read cannot raise SIGBUS here, as a mapped file could.
 * Everything a module needs later is copied out before elf_end().
 */
#include "module.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <limits.h>
#include <sha2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

/* Maximum sizes of what the supervisor copies out of one module. */
#define MODULE_SEGMENTS_MAX 64
#define MODULE_PLTS_MAX 4
#define MODULE_SYMBOLS_MAX (1u << 21)
#define MODULE_NAMES_MAX (64u << 20)
#define MODULE_UNWIND_DATA_MAX (64u << 20)
#define HASH_CHUNK (64u << 10)

/*
 * Files are hashed while their process waits, and nativemon's one thread
 * with it. At about 3.6 ms per MiB on a 2-CPU VM, 64 MiB keeps that wait
 * under 250 ms; larger files are reported without a digest.
 */
#define MODULE_HASH_MAX (64ull << 20)

/* DWARF pointer encodings (DW_EH_PE_*) that .eh_frame_hdr uses. */
#define EH_PE_OMIT 0xff
#define EH_PE_ABSPTR 0x00
#define EH_PE_UDATA4 0x03
#define EH_PE_UDATA8 0x04
#define EH_PE_SDATA4 0x0b
#define EH_PE_SDATA8 0x0c
#define EH_PE_PCREL 0x10
#define EH_PE_DATAREL 0x30
/* The only table encoding libunwind's search accepts. */
#define EH_TABLE_ENCODING (EH_PE_DATAREL | EH_PE_SDATA4)
#define EH_TABLE_ENTRY_SIZE 8

struct module_segment {
	uint64_t vaddr;
	uint64_t memsz;
	uint64_t offset;
	uint64_t filesz;
	bool executable;
};

struct module_range {
	uint64_t start;
	uint64_t end;
};

struct module_symbol {
	uint64_t value;
	uint64_t size;
	uint32_t name; /* offset into names */
	uint32_t rank; /* lower wins among aliases at one address */
};

struct module {
	unsigned int refs; /* atomic */
	char *path;
	struct file_key identity;
	int fd; /* open until hashed, then -1 */
	uint64_t last_used;

	uint8_t build_id[MODULE_BUILD_ID_MAX];
	size_t build_id_size;
	int hash_status; /* 0 before hashing, 1 after, or -errno */
	uint8_t sha256[MODULE_SHA256_SIZE];

	struct module_segment segments[MODULE_SEGMENTS_MAX];
	size_t segment_count;
	struct module_symbol *symbols;
	size_t symbol_count;
	char *names;
	size_t names_size;
	bool symtab;
	struct module_range plts[MODULE_PLTS_MAX];
	size_t plt_count;
	bool has_unwind_table;
	struct module_unwind_table unwind;
};

struct module_cache {
	struct module **entries;
	size_t capacity;
	uint64_t clock;
	struct module_cache_stats stats;
};

struct module_cache *module_cache_new(size_t capacity)
{
	struct module_cache *cache;

	/* libelf refuses every call until the version is set. */
	if (elf_version(EV_CURRENT) == EV_NONE)
		return NULL;
	if (capacity == 0)
		capacity = 1;
	cache = calloc(1, sizeof(*cache));
	if (!cache)
		return NULL;
	cache->entries = calloc(capacity, sizeof(*cache->entries));
	if (!cache->entries) {
		free(cache);
		return NULL;
	}
	cache->capacity = capacity;
	return cache;
}

void module_cache_free(struct module_cache *cache)
{
	if (!cache)
		return;
	for (size_t i = 0; i < cache->capacity; i++)
		module_unref(cache->entries[i]);
	free(cache->entries);
	free(cache);
}

void module_cache_get_stats(const struct module_cache *cache,
			    struct module_cache_stats *stats)
{
	*stats = cache->stats;
}

/*
 * References are counted atomically because the writer thread drops the
 * ones that record drafts hold; see record.c.
 */
struct module *module_ref(struct module *module)
{
	__atomic_fetch_add(&module->refs, 1, __ATOMIC_RELAXED);
	return module;
}

static void free_module(struct module *module)
{
	if (module->fd >= 0)
		close(module->fd);
	free((void *)module->unwind.data);
	free(module->symbols);
	free(module->names);
	free(module->path);
	free(module);
}

void module_unref(struct module *module)
{
	if (module &&
	    __atomic_sub_fetch(&module->refs, 1, __ATOMIC_ACQ_REL) == 0)
		free_module(module);
}

const char *module_path(const struct module *module)
{
	return module->path;
}

const struct file_key *module_identity(const struct module *module)
{
	return &module->identity;
}

size_t module_build_id(const struct module *module, const uint8_t **build_id)
{
	*build_id = module->build_id;
	return module->build_id_size;
}

bool module_has_symtab(const struct module *module)
{
	return module->symtab;
}

const struct module_unwind_table *
module_unwind_table(const struct module *module)
{
	return module->has_unwind_table ? &module->unwind : NULL;
}

/* Identity and lookup */

static bool is_file_mapping(const struct mapping *mapping)
{
	return mapping->path && mapping->path[0] == '/' && mapping->inode != 0;
}

static bool matches_mapping(const struct stat *st,
			    const struct mapping *mapping, bool check_device)
{
	if (!S_ISREG(st->st_mode) || st->st_ino != mapping->inode)
		return false;
	return !check_device || (major(st->st_dev) == mapping->dev_major &&
				 minor(st->st_dev) == mapping->dev_minor);
}

/*
 * Finds the file behind mapping and stats it. map_files names the file of
 * the mapping itself, even once deleted or replaced, so only its inode is
 * compared: on overlayfs the device differs from what maps shows. The path
 * is the fallback for callers without the capability that map_files needs,
 * and for a mapping whose range has changed since the caller read it,
 * which map_files no longer lists. Stores the path that was used in link.
 */
static int stat_mapped_file(pid_t pid, const struct mapping *mapping,
			    char *link, size_t size, struct stat *st)
{
	int n, err;

	snprintf(link, size, "/proc/%d/map_files/%" PRIx64 "-%" PRIx64,
		 (int)pid, mapping->start, mapping->end);
	if (stat(link, st) == 0)
		return matches_mapping(st, mapping, false) ? 0 : -ESTALE;
	err = -errno;
	if (err != -EPERM && err != -EACCES && err != -ENOENT)
		return err;
	/* A deleted file or a memfd has no path to fall back to. */
	if (mapping->deleted)
		return err;
	n = snprintf(link, size, "/proc/%d/root%s", (int)pid, mapping->path);
	if (n < 0 || (size_t)n >= size)
		return -ENAMETOOLONG;
	if (stat(link, st) < 0)
		return -errno;
	return matches_mapping(st, mapping, true) ? 0 : -ESTALE;
}

static struct module *find_cached(struct module_cache *cache,
				  const struct file_key *identity)
{
	for (size_t i = 0; i < cache->capacity; i++) {
		struct module *module = cache->entries[i];

		if (module && file_key_compare(&module->identity, identity) == 0)
			return module;
	}
	return NULL;
}

/* Puts module into a free slot or the least recently used one. */
static void insert_cached(struct module_cache *cache, struct module *module)
{
	size_t victim = 0;

	for (size_t i = 0; i < cache->capacity; i++) {
		if (!cache->entries[i]) {
			victim = i;
			break;
		}
		if (cache->entries[i]->last_used <
		    cache->entries[victim]->last_used)
			victim = i;
	}
	if (cache->entries[victim]) {
		module_unref(cache->entries[victim]);
		cache->stats.evictions++;
		cache->stats.count--;
	}
	cache->entries[victim] = module_ref(module);
	cache->stats.count++;
}

/*
 * Opens the file at link for reading. The O_PATH step checks that it is
 * still the regular file that was stat()ed before anything opens it for
 * real: opening a FIFO or a device could block or have side effects.
 *
 * A file on FUSE is refused. Its daemon, which any user may run where
 * fusermount3 is setuid, can leave a read unanswered for ever, and
 * nativemon's one thread would wait with it, for every process it serves.
 * NOTE: reads of target memory backed by a FUSE file can block the same
 * way, and so can a file on an overlay or bind mount whose lower layer is
 * FUSE, which fstatfs(2) does not show.
 */
static int open_checked(const char *link,
			const struct file_key *identity)
{
	struct file_key opened;
	char self[64];
	struct stat st;
	int path_fd, fd;

	path_fd = open(link, O_PATH | O_CLOEXEC);
	if (path_fd < 0)
		return -errno;
	if (fstat(path_fd, &st) < 0) {
		fd = -errno;
		goto out;
	}
	file_key_from_stat(&opened, &st);
	if (!S_ISREG(st.st_mode) ||
	    file_key_compare(&opened, identity) != 0) {
		fd = -ESTALE;
		goto out;
	}
	if (file_is_on_fuse(path_fd)) {
		fd = -EREMOTE;
		goto out;
	}
	snprintf(self, sizeof(self), "/proc/self/fd/%d", path_fd);
	fd = open(self, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		fd = -errno;
out:
	close(path_fd);
	return fd;
}

/* ELF reading */

static int check_header(Elf *elf)
{
	GElf_Ehdr header;

	if (elf_kind(elf) != ELF_K_ELF || gelf_getclass(elf) != ELFCLASS64)
		return -ENOEXEC;
	if (!gelf_getehdr(elf, &header) || header.e_machine != EM_X86_64)
		return -ENOEXEC;
	return 0;
}

static int read_segments(Elf *elf, struct module *module)
{
	size_t count;

	if (elf_getphdrnum(elf, &count) != 0)
		return -ENOEXEC;
	for (size_t i = 0; i < count; i++) {
		struct module_segment *segment;
		GElf_Phdr phdr;

		if (!gelf_getphdr(elf, (int)i, &phdr))
			return -ENOEXEC;
		if (phdr.p_type != PT_LOAD)
			continue;
		if (module->segment_count == MODULE_SEGMENTS_MAX ||
		    phdr.p_filesz > phdr.p_memsz ||
		    phdr.p_vaddr > UINT64_MAX - phdr.p_memsz ||
		    phdr.p_offset > UINT64_MAX - phdr.p_filesz)
			return -ENOEXEC;
		segment = &module->segments[module->segment_count++];
		segment->vaddr = phdr.p_vaddr;
		segment->memsz = phdr.p_memsz;
		segment->offset = phdr.p_offset;
		segment->filesz = phdr.p_filesz;
		segment->executable = (phdr.p_flags & PF_X) != 0;
	}
	return 0;
}

/* Copies an NT_GNU_BUILD_ID descriptor out of a block of notes. */
static bool find_build_id_note(Elf_Data *data,
			       uint8_t build_id[MODULE_BUILD_ID_MAX],
			       size_t *size)
{
	size_t offset = 0, next, name_offset, desc_offset;
	GElf_Nhdr note;

	while (offset < data->d_size &&
	       (next = gelf_getnote(data, offset, &note, &name_offset,
				    &desc_offset)) > 0) {
		const char *name = (const char *)data->d_buf + name_offset;

		if (note.n_type == NT_GNU_BUILD_ID && note.n_namesz == 4 &&
		    memcmp(name, "GNU", 4) == 0 && note.n_descsz > 0 &&
		    note.n_descsz <= MODULE_BUILD_ID_MAX) {
			memcpy(build_id,
			       (const uint8_t *)data->d_buf + desc_offset,
			       note.n_descsz);
			*size = note.n_descsz;
			return true;
		}
		offset = next;
	}
	return false;
}

/*
 * Reads the build-id from the PT_NOTE segments, which survive stripping of
 * the section headers, and else from SHT_NOTE sections.
 */
static void read_build_id(Elf *elf, uint8_t build_id[MODULE_BUILD_ID_MAX],
			  size_t *size)
{
	Elf_Scn *section = NULL;
	size_t count;

	if (elf_getphdrnum(elf, &count) == 0) {
		for (size_t i = 0; i < count; i++) {
			GElf_Phdr phdr;
			Elf_Data *data;

			if (!gelf_getphdr(elf, (int)i, &phdr) ||
			    phdr.p_type != PT_NOTE)
				continue;
			data = elf_getdata_rawchunk(
				elf, (int64_t)phdr.p_offset, phdr.p_filesz,
				phdr.p_align == 8 ? ELF_T_NHDR8 : ELF_T_NHDR);
			if (data && find_build_id_note(data, build_id, size))
				return;
		}
	}
	while ((section = elf_nextscn(elf, section))) {
		GElf_Shdr shdr;
		Elf_Data *data;

		if (!gelf_getshdr(section, &shdr) || shdr.sh_type != SHT_NOTE)
			continue;
		data = elf_getdata(section, NULL);
		if (data && find_build_id_note(data, build_id, size))
			return;
	}
}

static Elf_Scn *find_section(Elf *elf, Elf64_Word type, GElf_Shdr *shdr)
{
	Elf_Scn *section = NULL;

	while ((section = elf_nextscn(elf, section))) {
		if (gelf_getshdr(section, shdr) && shdr->sh_type == type &&
		    shdr->sh_size > 0)
			return section;
	}
	return NULL;
}

/*
 * Ranks aliases such as read, __read and __libc_read at one address: the
 * name with the fewest leading underscores wins, then global over weak
 * over local binding.
 */
static uint32_t rank_symbol(const char *name, const GElf_Sym *symbol)
{
	uint32_t underscores = 0;
	uint32_t binding;

	while (name[underscores] == '_' && underscores < 8)
		underscores++;
	switch (GELF_ST_BIND(symbol->st_info)) {
	case STB_GLOBAL:
		binding = 0;
		break;
	case STB_WEAK:
		binding = 1;
		break;
	default:
		binding = 2;
		break;
	}
	return underscores * 4 + binding;
}

static bool is_function(const GElf_Sym *symbol)
{
	int type = GELF_ST_TYPE(symbol->st_info);

	return (type == STT_FUNC || type == STT_GNU_IFUNC) &&
	       symbol->st_shndx != SHN_UNDEF && symbol->st_value != 0 &&
	       symbol->st_size != 0;
}

static int append_name(struct module *module, const char *name,
		       size_t *capacity, uint32_t *offset)
{
	size_t length = strlen(name) + 1;

	if (length > MODULE_NAMES_MAX - module->names_size)
		return -EFBIG;
	if (module->names_size + length > *capacity) {
		size_t grown = *capacity ? *capacity * 2 : 4096;
		char *names;

		while (grown < module->names_size + length)
			grown *= 2;
		names = realloc(module->names, grown);
		if (!names)
			return -ENOMEM;
		module->names = names;
		*capacity = grown;
	}
	memcpy(module->names + module->names_size, name, length);
	*offset = (uint32_t)module->names_size;
	module->names_size += length;
	return 0;
}

static int compare_symbols(const void *a, const void *b)
{
	const struct module_symbol *left = a, *right = b;

	if (left->value != right->value)
		return left->value < right->value ? -1 : 1;
	if (left->rank != right->rank)
		return left->rank < right->rank ? -1 : 1;
	return 0;
}

/* Sorts the symbols by address and keeps the best-ranked alias of each. */
static void sort_symbols(struct module *module)
{
	size_t kept = 0;

	qsort(module->symbols, module->symbol_count, sizeof(*module->symbols),
	      compare_symbols);
	for (size_t i = 0; i < module->symbol_count; i++) {
		if (kept > 0 &&
		    module->symbols[kept - 1].value == module->symbols[i].value)
			continue;
		module->symbols[kept++] = module->symbols[i];
	}
	module->symbol_count = kept;
}

static int copy_symbols(Elf *elf, Elf_Scn *section, const GElf_Shdr *shdr,
			struct module *module)
{
	Elf_Data *data = elf_getdata(section, NULL);
	size_t count, names_capacity = 0;

	if (!data || shdr->sh_entsize != sizeof(Elf64_Sym))
		return 0;
	count = data->d_size / sizeof(Elf64_Sym);
	if (count > MODULE_SYMBOLS_MAX)
		count = MODULE_SYMBOLS_MAX;
	module->symbols = calloc(count ? count : 1, sizeof(*module->symbols));
	if (!module->symbols)
		return -ENOMEM;
	for (size_t i = 0; i < count; i++) {
		struct module_symbol *entry;
		const char *name;
		GElf_Sym symbol;
		int err;

		if (!gelf_getsym(data, (int)i, &symbol) ||
		    !is_function(&symbol))
			continue;
		name = elf_strptr(elf, shdr->sh_link, symbol.st_name);
		if (!name || !name[0])
			continue;
		entry = &module->symbols[module->symbol_count];
		err = append_name(module, name, &names_capacity, &entry->name);
		if (err < 0)
			return err;
		entry->value = symbol.st_value;
		entry->size = symbol.st_size;
		entry->rank = rank_symbol(name, &symbol);
		module->symbol_count++;
	}
	sort_symbols(module);
	return 0;
}

static int read_symbols(Elf *elf, struct module *module)
{
	GElf_Shdr shdr;
	Elf_Scn *section = find_section(elf, SHT_SYMTAB, &shdr);

	module->symtab = section != NULL;
	if (!section)
		section = find_section(elf, SHT_DYNSYM, &shdr);
	if (!section)
		return 0;
	return copy_symbols(elf, section, &shdr, module);
}

const char *module_find_symbol(const struct module *module, uint64_t vaddr,
			       uint64_t *offset)
{
	size_t low = 0, high = module->symbol_count;
	const struct module_symbol *symbol;

	/* Finds the last symbol whose value is at most vaddr. */
	while (low < high) {
		size_t middle = low + (high - low) / 2;

		if (module->symbols[middle].value <= vaddr)
			low = middle + 1;
		else
			high = middle;
	}
	if (low == 0)
		return NULL;
	symbol = &module->symbols[low - 1];
	if (vaddr - symbol->value >= symbol->size)
		return NULL;
	*offset = vaddr - symbol->value;
	return module->names + symbol->name;
}

/* Unwind table */

/* Returns the file-backed PT_LOAD that contains [vaddr, vaddr + size). */
static const struct module_segment *
find_file_segment(const struct module *module, uint64_t vaddr, uint64_t size)
{
	for (size_t i = 0; i < module->segment_count; i++) {
		const struct module_segment *segment = &module->segments[i];

		if (vaddr >= segment->vaddr &&
		    vaddr - segment->vaddr <= segment->filesz &&
		    size <= segment->filesz - (vaddr - segment->vaddr))
			return segment;
	}
	return NULL;
}

/*
 * Decodes one pointer of .eh_frame_hdr at *position. field_vaddr is the
 * virtual address of byte 0 of header, which is also the data-relative
 * base. Returns 0, or -ENOTSUP for an encoding that headers do not use.
 */
static int read_encoded(const uint8_t *header, size_t size, size_t *position,
			uint8_t encoding, uint64_t header_vaddr,
			uint64_t *value)
{
	uint64_t field_vaddr = header_vaddr + *position;
	size_t width;
	uint64_t raw = 0;

	switch (encoding & 0x0f) {
	case EH_PE_ABSPTR:
	case EH_PE_UDATA8:
	case EH_PE_SDATA8:
		width = 8;
		break;
	case EH_PE_UDATA4:
	case EH_PE_SDATA4:
		width = 4;
		break;
	default:
		return -ENOTSUP;
	}
	if (size - *position < width)
		return -EINVAL;
	memcpy(&raw, header + *position, width);
	if ((encoding & 0x0f) == EH_PE_SDATA4)
		raw = (uint64_t)(int64_t)(int32_t)raw;
	*position += width;
	switch (encoding & 0x70) {
	case 0:
		*value = raw;
		return 0;
	case EH_PE_PCREL:
		*value = field_vaddr + raw;
		return 0;
	case EH_PE_DATAREL:
		*value = header_vaddr + raw;
		return 0;
	default:
		return -ENOTSUP;
	}
}

/*
 * Finds where .eh_frame ends: at the end of its section if the section
 * headers name it, else at the end of the file-backed part of its segment.
 */
static uint64_t find_eh_frame_end(Elf *elf,
				  const struct module_segment *segment,
				  uint64_t eh_frame_vaddr)
{
	uint64_t end = segment->vaddr + segment->filesz;
	Elf_Scn *section = NULL;
	size_t names;

	if (elf_getshdrstrndx(elf, &names) != 0)
		return end;
	while ((section = elf_nextscn(elf, section))) {
		GElf_Shdr shdr;
		const char *name;

		if (!gelf_getshdr(section, &shdr) ||
		    shdr.sh_addr != eh_frame_vaddr)
			continue;
		name = elf_strptr(elf, names, shdr.sh_name);
		if (name && strcmp(name, ".eh_frame") == 0 &&
		    shdr.sh_size <= end - eh_frame_vaddr)
			return eh_frame_vaddr + shdr.sh_size;
	}
	return end;
}

/*
 * Checks that the search table is sorted and that each FDE it names starts
 * inside .eh_frame, so libunwind's binary search and FDE parser start from
 * sane places. libunwind reads the FDEs themselves through the accessors,
 * which bound every read.
 */
static int check_table(const uint8_t *table, uint64_t count,
		       uint64_t header_vaddr, uint64_t eh_frame_vaddr,
		       uint64_t eh_frame_end)
{
	int32_t previous = INT32_MIN;

	for (uint64_t i = 0; i < count; i++) {
		int32_t start, fde;
		uint64_t fde_vaddr;

		memcpy(&start, table + i * EH_TABLE_ENTRY_SIZE, sizeof(start));
		memcpy(&fde, table + i * EH_TABLE_ENTRY_SIZE + 4, sizeof(fde));
		if (start < previous)
			return -EINVAL;
		previous = start;
		fde_vaddr = header_vaddr + (uint64_t)(int64_t)fde;
		if (fde_vaddr < eh_frame_vaddr || eh_frame_end < 8 ||
		    fde_vaddr > eh_frame_end - 8)
			return -EINVAL;
	}
	return 0;
}

struct eh_frame_hdr {
	uint64_t vaddr;
	uint64_t size;
	uint64_t eh_frame_vaddr;
	uint64_t fde_count;
	uint64_t table_offset;
};

/*
 * Parses the header of .eh_frame_hdr: version 1, the encodings of the
 * .eh_frame pointer, of the FDE count and of the table, then the encoded
 * pointer and count, then the table of (initial location, FDE) pairs.
 */
static int parse_eh_frame_hdr(const uint8_t *bytes, struct eh_frame_hdr *hdr)
{
	size_t position = 4;
	int err;

	if (hdr->size < 4 || bytes[0] != 1)
		return -EINVAL;
	if (bytes[1] == EH_PE_OMIT || bytes[2] == EH_PE_OMIT ||
	    bytes[3] != EH_TABLE_ENCODING)
		return -ENOTSUP;
	err = read_encoded(bytes, hdr->size, &position, bytes[1], hdr->vaddr,
			   &hdr->eh_frame_vaddr);
	if (err == 0)
		err = read_encoded(bytes, hdr->size, &position, bytes[2],
				   hdr->vaddr, &hdr->fde_count);
	if (err < 0)
		return err;
	hdr->table_offset = position;
	if (hdr->fde_count == 0 ||
	    hdr->fde_count > (hdr->size - position) / EH_TABLE_ENTRY_SIZE)
		return -EINVAL;
	return 0;
}

static int copy_unwind_data(Elf *elf, struct module *module,
			    const struct module_segment *segment,
			    uint64_t start, uint64_t end)
{
	uint64_t offset = segment->offset + (start - segment->vaddr);
	Elf_Data *data;
	uint8_t *copy;

	if (end - start > MODULE_UNWIND_DATA_MAX || offset > INT64_MAX)
		return -EFBIG;
	data = elf_getdata_rawchunk(elf, (int64_t)offset, end - start,
				    ELF_T_BYTE);
	if (!data || data->d_size != end - start)
		return -EINVAL;
	copy = malloc(end - start);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, data->d_buf, end - start);
	module->unwind.data = copy;
	module->unwind.data_vaddr = start;
	module->unwind.data_size = end - start;
	return 0;
}

/*
 * Finds PT_GNU_EH_FRAME and returns the bytes of .eh_frame_hdr, which
 * must lie in the file-backed part of a PT_LOAD segment, or NULL.
 */
static Elf_Data *read_eh_frame_hdr(Elf *elf, const struct module *module,
				   struct eh_frame_hdr *hdr)
{
	Elf_Data *data;
	size_t count;

	if (elf_getphdrnum(elf, &count) != 0)
		return NULL;
	for (size_t i = 0; i < count; i++) {
		GElf_Phdr phdr;

		if (!gelf_getphdr(elf, (int)i, &phdr) ||
		    phdr.p_type != PT_GNU_EH_FRAME)
			continue;
		hdr->vaddr = phdr.p_vaddr;
		hdr->size = phdr.p_filesz;
		if (!find_file_segment(module, hdr->vaddr, hdr->size) ||
		    phdr.p_offset > INT64_MAX)
			return NULL;
		data = elf_getdata_rawchunk(elf, (int64_t)phdr.p_offset,
					    phdr.p_filesz, ELF_T_BYTE);
		return data && data->d_size == hdr->size ? data : NULL;
	}
	return NULL;
}

/*
 * Reads PT_GNU_EH_FRAME. A module without one, or with one that does not
 * check out, simply has no unwind table. Returns -ENOMEM only.
 */
static int read_unwind_table(Elf *elf, struct module *module)
{
	const struct module_segment *segment;
	struct eh_frame_hdr hdr = { 0 };
	uint64_t eh_frame_end, start, end;
	Elf_Data *data = read_eh_frame_hdr(elf, module, &hdr);
	int err;

	if (!data || parse_eh_frame_hdr(data->d_buf, &hdr) < 0)
		return 0;
	/* One copy covers both sections, so they must share a segment. */
	segment = find_file_segment(module, hdr.eh_frame_vaddr, 0);
	if (!segment ||
	    segment != find_file_segment(module, hdr.vaddr, hdr.size))
		return 0;
	eh_frame_end = find_eh_frame_end(elf, segment, hdr.eh_frame_vaddr);
	if (check_table((const uint8_t *)data->d_buf + hdr.table_offset,
			hdr.fde_count, hdr.vaddr, hdr.eh_frame_vaddr,
			eh_frame_end) < 0)
		return 0;

	start = hdr.vaddr < hdr.eh_frame_vaddr ? hdr.vaddr : hdr.eh_frame_vaddr;
	end = hdr.vaddr + hdr.size > eh_frame_end ? hdr.vaddr + hdr.size
						  : eh_frame_end;
	err = copy_unwind_data(elf, module, segment, start, end);
	if (err == -ENOMEM)
		return err;
	if (err < 0)
		return 0;

	module->unwind.header_vaddr = hdr.vaddr;
	module->unwind.table_vaddr = hdr.vaddr + hdr.table_offset;
	module->unwind.fde_count = hdr.fde_count;
	module->has_unwind_table = true;
	return 0;
}

static bool is_plt_name(const char *name)
{
	return strcmp(name, ".plt") == 0 || strcmp(name, ".plt.sec") == 0 ||
	       strcmp(name, ".plt.got") == 0 || strcmp(name, ".iplt") == 0;
}

/* Records where the PLT stubs are, from the section headers if any. */
static void read_plts(Elf *elf, struct module *module)
{
	Elf_Scn *section = NULL;
	size_t names;

	if (elf_getshdrstrndx(elf, &names) != 0)
		return;
	while ((section = elf_nextscn(elf, section)) &&
	       module->plt_count < MODULE_PLTS_MAX) {
		struct module_range *plt;
		const char *name;
		GElf_Shdr shdr;

		if (!gelf_getshdr(section, &shdr) ||
		    !(shdr.sh_flags & SHF_EXECINSTR) ||
		    shdr.sh_addr > UINT64_MAX - shdr.sh_size)
			continue;
		name = elf_strptr(elf, names, shdr.sh_name);
		if (!name || !is_plt_name(name))
			continue;
		plt = &module->plts[module->plt_count++];
		plt->start = shdr.sh_addr;
		plt->end = shdr.sh_addr + shdr.sh_size;
	}
}

bool module_is_plt(const struct module *module, uint64_t vaddr)
{
	for (size_t i = 0; i < module->plt_count; i++) {
		if (vaddr >= module->plts[i].start &&
		    vaddr < module->plts[i].end)
			return true;
	}
	return false;
}

static int read_elf(struct module *module)
{
	Elf *elf = elf_begin(module->fd, ELF_C_READ, NULL);
	int err;

	if (!elf)
		return -ENOEXEC;
	err = check_header(elf);
	if (err == 0)
		err = read_segments(elf, module);
	if (err == 0) {
		read_build_id(elf, module->build_id, &module->build_id_size);
		read_plts(elf, module);
		err = read_symbols(elf, module);
	}
	if (err == 0)
		err = read_unwind_table(elf, module);
	elf_end(elf);
	return err;
}

static int load_module(const char *link, const struct file_key *identity,
		       const char *path, struct module **out)
{
	struct module *module = calloc(1, sizeof(*module));
	int err;

	if (!module)
		return -ENOMEM;
	module->refs = 1;
	module->identity = *identity;
	module->fd = open_checked(link, identity);
	if (module->fd < 0) {
		err = module->fd;
		free(module);
		return err;
	}
	module->path = strdup(path);
	err = module->path ? read_elf(module) : -ENOMEM;
	if (err < 0) {
		free_module(module);
		return err;
	}
	*out = module;
	return 0;
}

int module_cache_get(struct module_cache *cache, pid_t pid,
		     const struct mapping *mapping, struct module **out)
{
	char link[PATH_MAX + 64];
	struct file_key identity;
	struct module *module;
	struct stat st;
	int err;

	*out = NULL;
	if (!is_file_mapping(mapping))
		return -ENOENT;
	err = stat_mapped_file(pid, mapping, link, sizeof(link), &st);
	if (err < 0)
		return err;
	file_key_from_stat(&identity, &st);
	module = find_cached(cache, &identity);
	if (module) {
		cache->stats.hits++;
	} else {
		err = load_module(link, &identity, mapping->path, &module);
		if (err < 0)
			return err;
		cache->stats.loads++;
		/* A file changed just now is read again at the next lookup. */
		if (!file_key_is_settled(&st)) {
			*out = module;
			return 0;
		}
		insert_cached(cache, module);
		module_unref(module);
	}
	module->last_used = ++cache->clock;
	*out = module_ref(module);
	return 0;
}

/* Addresses */

int module_load_bias(const struct module *module, uint64_t map_start,
		     uint64_t map_offset, bool executable, uint64_t *bias)
{
	const struct module_segment *found = NULL;

	for (size_t i = 0; i < module->segment_count; i++) {
		const struct module_segment *segment = &module->segments[i];
		uint64_t first = segment->offset & ~(uint64_t)4095;

		if (map_offset < first ||
		    map_offset >= segment->offset + segment->filesz)
			continue;
		if (!found || segment->executable == executable)
			found = segment;
	}
	if (!found)
		return -ENOENT;
	/* p_vaddr and p_offset are congruent modulo the page size. */
	*bias = map_start - map_offset + found->offset - found->vaddr;
	return 0;
}

bool module_find_code_segment(const struct module *module, uint64_t vaddr,
			      uint64_t *start, uint64_t *end)
{
	for (size_t i = 0; i < module->segment_count; i++) {
		const struct module_segment *segment = &module->segments[i];

		if (segment->executable && vaddr >= segment->vaddr &&
		    vaddr - segment->vaddr < segment->memsz) {
			*start = segment->vaddr;
			*end = segment->vaddr + segment->memsz;
			return true;
		}
	}
	return false;
}

/* Hashing */

static int hash_file(int fd, off_t size, SHA2_CTX *context)
{
	uint8_t *buffer = malloc(HASH_CHUNK);
	off_t offset = 0;

	if (!buffer)
		return -ENOMEM;
	while (offset < size) {
		ssize_t n = pread(fd, buffer, HASH_CHUNK, offset);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			free(buffer);
			/* A file that shrank while it was read has changed. */
			return n < 0 ? -errno : -ESTALE;
		}
		SHA256Update(context, buffer, (size_t)n);
		offset += n;
	}
	free(buffer);
	return 0;
}

static bool is_unchanged(int fd, const struct file_key *identity)
{
	struct file_key now;
	struct stat st;

	if (fstat(fd, &st) < 0)
		return false;
	file_key_from_stat(&now, &st);
	return file_key_compare(&now, identity) == 0;
}

int module_sha256(struct module *module, uint8_t digest[MODULE_SHA256_SIZE])
{
	SHA2_CTX context;
	int err;

	if (module->hash_status == 0) {
		if (module->identity.size > (off_t)MODULE_HASH_MAX) {
			err = -EFBIG;
		} else if (!is_unchanged(module->fd, &module->identity)) {
			err = -ESTALE;
		} else {
			SHA256Init(&context);
			err = hash_file(module->fd, module->identity.size,
					&context);
			if (err == 0 &&
			    !is_unchanged(module->fd, &module->identity))
				err = -ESTALE;
			if (err == 0)
				SHA256Final(module->sha256, &context);
		}
		module->hash_status = err < 0 ? err : 1;
		close(module->fd);
		module->fd = -1;
	}
	if (module->hash_status < 0)
		return module->hash_status;
	memcpy(digest, module->sha256, MODULE_SHA256_SIZE);
	return 0;
}

int module_digest_file(int fd, struct module_digest *digest)
{
	struct file_key identity;
	SHA2_CTX context;
	struct stat st;
	Elf *elf;
	int err;

	memset(digest, 0, sizeof(*digest));
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	if (st.st_size > (off_t)MODULE_HASH_MAX)
		return -EFBIG;
	if (file_is_on_fuse(fd))
		return -EREMOTE;
	file_key_from_stat(&identity, &st);
	if (elf_version(EV_CURRENT) != EV_NONE &&
	    (elf = elf_begin(fd, ELF_C_READ, NULL))) {
		read_build_id(elf, digest->build_id, &digest->build_id_size);
		elf_end(elf);
	}
	SHA256Init(&context);
	err = hash_file(fd, st.st_size, &context);
	if (err == 0 && !is_unchanged(fd, &identity))
		err = -ESTALE;
	if (err == 0)
		SHA256Final(digest->sha256, &context);
	return err;
}
