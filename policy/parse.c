/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Loading policy files: reading them, following includes, reporting
 * diagnostics and dispatching each statement to its parser. The mode and
 * include statements are parsed here, and rules and watches in their own
 * files.
 */
#include "policy/internal.h"
#include "policy/lexer.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static const char *current_file(const struct parser *parser)
{
	return parser->stack[parser->depth - 1].name;
}

int append_diagnostic(struct policy_diagnostics *diagnostics, const char *file,
		      unsigned int line, unsigned int column, char *message)
{
	struct policy_diagnostic *item;
	char *copy = strdup(file);

	if (!copy)
		goto fail;
	if (diagnostics->count == diagnostics->capacity) {
		size_t grown =
			diagnostics->capacity ? diagnostics->capacity * 2 : 8;
		struct policy_diagnostic *items =
			reallocarray(diagnostics->items, grown, sizeof(*items));

		if (!items)
			goto fail;
		diagnostics->items = items;
		diagnostics->capacity = grown;
	}

	item = &diagnostics->items[diagnostics->count++];
	item->file = copy;
	item->line = line;
	item->column = column;
	item->message = message;
	return 0;

fail:
	free(copy);
	free(message);
	return -ENOMEM;
}

static int report_va(struct parser *parser, const char *file, unsigned int line,
		     unsigned int column, const char *format, va_list arguments)
{
	size_t reported;
	char *message;
	int err;

	if (parser->stopped)
		return -EINVAL;
	if (vasprintf(&message, format, arguments) < 0)
		return -ENOMEM;
	err = append_diagnostic(parser->diagnostics, file, line, column,
				message);
	if (err)
		return err;

	reported = parser->diagnostics->count - parser->first_diagnostic;
	if (reported < POLICY_DIAGNOSTICS_MAX)
		return -EINVAL;

	parser->stopped = true;
	if (asprintf(&message,
		     "loading stopped after %d errors; fix these and load the "
		     "policy again",
		     POLICY_DIAGNOSTICS_MAX) < 0)
		return -ENOMEM;
	err = append_diagnostic(parser->diagnostics, file, line, column,
				message);
	return err ? err : -EINVAL;
}

int parser_report_at(struct parser *parser, const char *file, unsigned int line,
		     unsigned int column, const char *format, ...)
{
	va_list arguments;
	int err;

	va_start(arguments, format);
	err = report_va(parser, file, line, column, format, arguments);
	va_end(arguments);
	return err;
}

int parser_report(struct parser *parser, const struct token *token,
		  const char *format, ...)
{
	unsigned int line = token ? token->line : 0;
	unsigned int column = token ? token->column : 0;
	va_list arguments;
	int err;

	va_start(arguments, format);
	err = report_va(parser, current_file(parser), line, column, format,
			arguments);
	va_end(arguments);
	return err;
}

/* Bytes of a value shown before the rest is cut to "...". */
#define SHOWN_BYTES_MAX 60

const char *show_value(char *buffer, const char *text)
{
	static const char hex[] = "0123456789abcdef";
	size_t length = 0;

	for (size_t i = 0; text[i]; i++) {
		unsigned char byte = (unsigned char)text[i];

		if (i == SHOWN_BYTES_MAX) {
			memcpy(buffer + length, "...", 3);
			length += 3;
			break;
		}
		if (byte < 0x20 || byte == 0x7f) {
			buffer[length++] = '\\';
			buffer[length++] = 'x';
			buffer[length++] = hex[byte >> 4];
			buffer[length++] = hex[byte & 0xf];
		} else {
			buffer[length++] = (char)byte;
		}
	}
	buffer[length] = '\0';
	return buffer;
}

_Static_assert(SHOWN_BYTES_MAX * 4 + sizeof("...") <= SHOWN_MAX,
	       "show_value() needs a larger buffer");

static int check_members(struct parser *parser, const struct token *token)
{
	char shown[SHOWN_MAX];
	const char *text = token->text;
	bool empty = text[0] == ',' || text[token->length - 1] == ',' ||
		     strstr(text, ",,");

	if (!empty)
		return 0;
	return parser_report(
		parser, token,
		"the list '%s' has an empty member; remove the extra comma",
		show_value(shown, text));
}

static char **copy_members(const char *text, size_t count)
{
	char **members = calloc(count + 1, sizeof(*members));

	if (!members)
		return NULL;
	for (size_t i = 0; i < count; i++) {
		size_t length = strcspn(text, ",");

		members[i] = strndup(text, length);
		if (!members[i]) {
			free_list(members);
			return NULL;
		}
		text += length + 1;
	}
	return members;
}

int split_list(struct parser *parser, const struct token *token,
	       char ***members)
{
	size_t count = 1;
	int err;

	*members = NULL;
	if (token->length == 0)
		return parser_report(parser, token,
				     "an empty string is not a valid value");

	if (token->quoted) {
		*members = calloc(2, sizeof(**members));
		if (!*members)
			return -ENOMEM;
		(*members)[0] = strdup(token->text);
		if ((*members)[0])
			return 0;
		free(*members);
		*members = NULL;
		return -ENOMEM;
	}

	err = check_members(parser, token);
	if (err)
		return err;
	for (const char *comma = token->text; (comma = strchr(comma, ','));
	     comma++)
		count++;
	*members = copy_members(token->text, count);
	return *members ? 0 : -ENOMEM;
}

static const char *add_file_name(struct policy *policy, const char *name)
{
	char *copy = strdup(name);
	char **files;

	if (!copy)
		return NULL;
	files = reallocarray(policy->files, policy->file_count + 1,
			     sizeof(*files));
	if (!files) {
		free(copy);
		return NULL;
	}
	policy->files = files;
	policy->files[policy->file_count++] = copy;
	return copy;
}

static const char *file_type_name(mode_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFDIR:
		return "a directory";
	case S_IFIFO:
		return "a FIFO";
	case S_IFCHR:
		return "a character device";
	case S_IFBLK:
		return "a block device";
	case S_IFSOCK:
		return "a socket";
	default:
		return "not a regular file";
	}
}

/* Opens path, below the parser's root directory when it has one. */
static int open_path(const struct parser *parser, const char *path, int flags)
{
	int fd;

	if (parser->root_fd < 0) {
		fd = open(path, flags);
	} else {
		struct open_how how = {
			.flags = (uint64_t)flags,
			.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
		};

		fd = (int)syscall(SYS_openat2, parser->root_fd, path, &how,
				  sizeof(how));
	}
	return fd < 0 ? -errno : fd;
}

/*
 * Opens a policy file for reading. The first open uses O_PATH, which has
 * no side effects, so a FIFO or a device is rejected before it is opened
 * for reading: opening a FIFO would block and opening some devices acts on
 * them. Returns the descriptor or -errno. For a file that is not regular
 * it returns -EINVAL and stores the file's type in type.
 */
static int open_policy_file(const struct parser *parser, const char *path,
			    struct stat *status, const char **type)
{
	struct stat reopened;
	int probe, fd;

	probe = open_path(parser, path, O_PATH | O_CLOEXEC);
	if (probe < 0)
		return probe;
	if (fstat(probe, status) < 0) {
		int err = -errno;

		close(probe);
		return err;
	}
	close(probe);
	if (!S_ISREG(status->st_mode)) {
		*type = file_type_name(status->st_mode);
		return -EINVAL;
	}

	fd = open_path(parser, path,
		       O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return fd;
	/* The path may have been replaced between the two opens. */
	if (fstat(fd, &reopened) < 0 || !S_ISREG(reopened.st_mode) ||
	    reopened.st_dev != status->st_dev ||
	    reopened.st_ino != status->st_ino) {
		close(fd);
		return -ESTALE;
	}
	return fd;
}

/*
 * Reads at most POLICY_FILE_MAX bytes. It reads until the end of the file
 * instead of trusting st_size, because files in /proc report a size of 0.
 * Returns 0, -EFBIG past the limit, or -errno.
 */
static int read_text(int fd, char **text, size_t *length)
{
	size_t capacity = 0, used = 0;
	char *buffer = NULL;

	for (;;) {
		ssize_t count;

		if (used == capacity) {
			size_t grown = capacity ? capacity * 2 : 16384;
			char *bigger;

			if (grown > POLICY_FILE_MAX + 1)
				grown = POLICY_FILE_MAX + 1;
			bigger = realloc(buffer, grown);
			if (!bigger) {
				free(buffer);
				return -ENOMEM;
			}
			buffer = bigger;
			capacity = grown;
		}
		count = read(fd, buffer + used, capacity - used);
		if (count < 0 && errno == EINTR)
			continue;
		if (count < 0) {
			int err = -errno;

			free(buffer);
			return err;
		}
		if (count == 0)
			break;
		used += (size_t)count;
		if (used > POLICY_FILE_MAX) {
			free(buffer);
			return -EFBIG;
		}
	}

	*text = buffer;
	*length = used;
	return 0;
}

static int parse_text(struct parser *parser, const char *text, size_t length);

/*
 * Parses text as the file name, pushed on the include stack. status is
 * NULL for text that is not a file.
 */
static int parse_source(struct parser *parser, const char *name,
			const struct stat *status, const char *text,
			size_t length)
{
	struct source *source = &parser->stack[parser->depth];
	int err;

	source->name = add_file_name(parser->policy, name);
	if (!source->name)
		return -ENOMEM;
	source->has_identity = status != NULL;
	if (status) {
		source->device = status->st_dev;
		source->inode = status->st_ino;
	}

	parser->files_loaded++;
	parser->text_loaded += length;
	parser->depth++;
	err = parse_text(parser, text, length);
	parser->depth--;
	memset(source, 0, sizeof(*source));
	return err;
}

static bool is_same_source(const struct source *source, const char *name,
			   const struct stat *status)
{
	if (source->has_identity)
		return source->device == status->st_dev &&
		       source->inode == status->st_ino;
	return strcmp(source->name, name) == 0;
}

/* Reports an include cycle with the chain of files that forms it. */
static int report_cycle(struct parser *parser, const struct token *at,
			unsigned int first, const char *name)
{
	char chain[(POLICY_INCLUDE_DEPTH_MAX + 2) * (SHOWN_MAX + 4)];
	char shown[SHOWN_MAX];
	size_t length = 0;

	for (unsigned int i = first; i < parser->depth; i++)
		length += (size_t)snprintf(
			chain + length, sizeof(chain) - length, "'%s' -> ",
			show_value(shown, parser->stack[i].name));
	snprintf(chain + length, sizeof(chain) - length, "'%s'",
		 show_value(shown, name));

	return parser_report(parser, at,
			     "include cycle: %s; remove one of these includes",
			     chain);
}

static int find_cycle(struct parser *parser, const struct token *at,
		      const char *name, const struct stat *status)
{
	for (unsigned int i = 0; i < parser->depth; i++) {
		if (is_same_source(&parser->stack[i], name, status))
			return report_cycle(parser, at, i, name);
	}
	return 0;
}

/*
 * Reports a problem with a file to load: at the include statement's token
 * in the including file, or at line 0 of the file itself for the file a
 * load call was given.
 */
static int report_file(struct parser *parser, const struct token *at,
		       const char *path, const char *verb, const char *detail)
{
	char shown[SHOWN_MAX];

	show_value(shown, path);
	if (at)
		return parser_report(parser, at, "cannot %s '%s': %s", verb,
				     shown, detail);
	return parser_report_at(parser, path, 0, 0, "cannot %s '%s': %s", verb,
				shown, detail);
}

static int report_open_error(struct parser *parser, const struct token *at,
			     const char *path, int err, const char *type)
{
	char detail[64];

	switch (err) {
	case -ENOMEM:
		return err;
	case -EFBIG:
		return report_file(parser, at, path, "load",
				   "it is larger than 4 MiB, the maximum size "
				   "of a policy file");
	case -ESTALE:
		return report_file(
			parser, at, path, "load",
			"the file was replaced while it was being opened");
	default:
		break;
	}
	if (type) {
		snprintf(detail, sizeof(detail), "it is %s, not a regular file",
			 type);
		return report_file(parser, at, path, "load", detail);
	}
	return report_file(parser, at, path, "open", strerror(-err));
}

static int check_load_limits(struct parser *parser, const struct token *at,
			     const char *path, size_t length)
{
	if (parser->files_loaded >= POLICY_FILES_MAX)
		return report_file(
			parser, at, path, "load",
			"one load reads at most 1024 files, includes counted");
	if (length > POLICY_TEXT_MAX - parser->text_loaded)
		return report_file(
			parser, at, path, "load",
			"one load reads at most 64 MiB, includes counted");
	return 0;
}

/*
 * Loads the file at path (as opened) shown as name. at is the include
 * statement's path token, or NULL for the file a load call was given.
 */
static int load_path(struct parser *parser, const struct token *at,
		     const char *path, const char *name)
{
	const char *type = NULL;
	struct stat status;
	char *text = NULL;
	size_t length = 0;
	int fd, err;

	fd = open_policy_file(parser, path, &status, &type);
	if (fd < 0)
		return report_open_error(parser, at, at ? at->text : path, fd,
					 type);
	if (at) {
		err = find_cycle(parser, at, name, &status);
		if (err) {
			close(fd);
			return err;
		}
	}

	err = read_text(fd, &text, &length);
	close(fd);
	if (err)
		return report_open_error(parser, at, at ? at->text : path, err,
					 NULL);

	err = check_load_limits(parser, at, at ? at->text : path, length);
	if (err == 0)
		err = parse_source(parser, name, &status, text, length);
	free(text);
	return err;
}

/* Resolves an include's path against the directory of the including
 * file's name. A name without a slash is in the current directory. */
static char *resolve_include(const char *including, const char *path)
{
	const char *slash = strrchr(including, '/');
	char *resolved;

	if (path[0] == '/' || !slash)
		return strdup(path);
	if (asprintf(&resolved, "%.*s/%s", (int)(slash - including), including,
		     path) < 0)
		return NULL;
	return resolved;
}

static int parse_include(struct parser *parser, const struct token *tokens,
			 size_t count)
{
	char shown[SHOWN_MAX];
	char *resolved;
	int err;

	if (count < 2)
		return parser_report(parser, &tokens[0],
				     "missing file name after 'include'");
	if (count > 2)
		return parser_report(
			parser, &tokens[2],
			"unexpected '%s' after the file name; include takes "
			"one file name, and a name with blanks needs quotes",
			show_value(shown, tokens[2].text));
	if (tokens[1].length == 0)
		return parser_report(
			parser, &tokens[1],
			"an empty string is not a valid file name");
	if (parser->depth > POLICY_INCLUDE_DEPTH_MAX)
		return parser_report(parser, &tokens[1],
				     "cannot include '%s': includes nest more "
				     "than %d levels deep",
				     show_value(shown, tokens[1].text),
				     POLICY_INCLUDE_DEPTH_MAX);

	resolved = resolve_include(current_file(parser), tokens[1].text);
	if (!resolved)
		return -ENOMEM;
	err = load_path(parser, &tokens[1], resolved, resolved);
	free(resolved);
	return err;
}

static int parse_mode(struct parser *parser, const struct token *tokens,
		      size_t count)
{
	static const char *const modes[] = { "monitor", "enforce" };
	struct policy *policy = parser->policy;
	char shown[SHOWN_MAX];
	enum policy_mode mode;
	const char *close;
	int index;

	if (count < 2)
		return parser_report(parser, &tokens[0],
				     "missing value after 'mode'; write mode "
				     "monitor or mode enforce");
	if (count > 2)
		return parser_report(parser, &tokens[2],
				     "unexpected '%s' after the mode; a mode "
				     "statement takes one value",
				     show_value(shown, tokens[2].text));

	index = lookup_name(modes, ARRAY_SIZE(modes), tokens[1].text);
	if (index < 0) {
		close = suggest_name(tokens[1].text, modes, ARRAY_SIZE(modes));
		if (close)
			return parser_report(
				parser, &tokens[1],
				"invalid mode '%s'; did you mean '%s'?",
				show_value(shown, tokens[1].text), close);
		return parser_report(parser, &tokens[1],
				     "invalid mode '%s'; valid modes are "
				     "monitor and enforce",
				     show_value(shown, tokens[1].text));
	}

	mode = index == 0 ? POLICY_MODE_MONITOR : POLICY_MODE_ENFORCE;
	if (policy->mode != POLICY_MODE_UNSET && policy->mode != mode)
		return parser_report(
			parser, &tokens[1],
			"mode %s conflicts with mode %s set at %s:%u; a policy "
			"has one mode",
			policy_mode_name(mode), policy_mode_name(policy->mode),
			show_value(shown, policy->mode_location.file),
			policy->mode_location.line);
	if (policy->mode == POLICY_MODE_UNSET) {
		policy->mode = mode;
		policy->mode_location.file = current_file(parser);
		policy->mode_location.line = tokens[0].line;
	}
	return 0;
}

static const char *const statement_keywords[] = {
	"mode", "include", "watch", "allow", "log", "alert", "deny", "kill",
};

static int report_unknown_statement(struct parser *parser,
				    const struct token *token)
{
	char shown[SHOWN_MAX];
	const char *close = suggest_name(token->text, statement_keywords,
					 ARRAY_SIZE(statement_keywords));

	if (close)
		return parser_report(
			parser, token,
			"unknown statement '%s'; did you mean '%s'?",
			show_value(shown, token->text), close);
	return parser_report(
		parser, token,
		"unknown statement '%s'; a statement starts with mode, "
		"include, watch or an action (allow, log, alert, deny, kill)",
		show_value(shown, token->text));
}

static int parse_statement(struct parser *parser, const struct token *tokens,
			   size_t count)
{
	const char *keyword = tokens[0].text;

	if (strcmp(keyword, "mode") == 0)
		return parse_mode(parser, tokens, count);
	if (strcmp(keyword, "include") == 0)
		return parse_include(parser, tokens, count);
	if (strcmp(keyword, "watch") == 0)
		return parse_watch(parser, tokens, count);
	if (lookup_name(policy_action_names, policy_action_count, keyword) >= 0)
		return parse_rule(parser, tokens, count);
	return report_unknown_statement(parser, &tokens[0]);
}

static int report_lex_error(struct parser *parser,
			    const struct lex_error *error)
{
	const char *file = current_file(parser);
	char byte[8];

	if (error->byte > 0x20 && error->byte < 0x7f)
		snprintf(byte, sizeof(byte), "%c", error->byte);
	else
		snprintf(byte, sizeof(byte), "\\x%02x", error->byte);

	switch (error->kind) {
	case LEX_NUL:
		return parser_report_at(
			parser, file, error->line, error->column,
			"NUL byte in the policy; a policy file must be text");
	case LEX_UNTERMINATED:
		return parser_report_at(parser, file, error->line,
					error->column,
					"unterminated string; close it with "
					"'\"' before the end of the line");
	case LEX_BAD_ESCAPE:
		return parser_report_at(parser, file, error->line,
					error->column,
					"invalid escape '\\%s' in a string; "
					"only \\\" and \\\\ are escapes",
					byte);
	case LEX_AFTER_QUOTE:
		return parser_report_at(parser, file, error->line,
					error->column,
					"unexpected '%s' right after a closing "
					"quote; put a blank after the string",
					byte);
	case LEX_CONTINUED_AT_END:
		return parser_report_at(
			parser, file, error->line, error->column,
			"backslash at the end of the file; a backslash that "
			"ends a line continues the statement on the next line, "
			"and none follows");
	default:
		return 0;
	}
}

/*
 * Copies text with each CR LF line ending turned into LF, so that files
 * saved with Windows line endings read as their authors see them. A CR
 * elsewhere stays and is reported at its position. Returns NULL without
 * memory.
 */
static char *copy_unix_lines(const char *text, size_t length,
			     size_t *copied)
{
	char *copy = malloc(length + 1);
	size_t out = 0;

	if (!copy)
		return NULL;
	for (size_t i = 0; i < length; i++) {
		if (text[i] == '\r' && i + 1 < length && text[i + 1] == '\n')
			continue;
		copy[out++] = text[i];
	}
	copy[out] = '\0';
	*copied = out;
	return copy;
}

static int parse_text(struct parser *parser, const char *text, size_t length)
{
	struct lexer lexer;
	size_t unix_length;
	char *unix_text = NULL;
	int err = 0;

	if (memmem(text, length, "\r\n", 2)) {
		unix_text = copy_unix_lines(text, length, &unix_length);
		if (!unix_text)
			return -ENOMEM;
		text = unix_text;
		length = unix_length;
	}
	lexer_init(&lexer, text, length);
	while (!parser->stopped && (err = lexer_next(&lexer)) > 0) {
		if (lexer.error.kind != LEX_OK)
			err = report_lex_error(parser, &lexer.error);
		else
			err = parse_statement(parser, lexer.tokens,
					      lexer.count);
		if (err == -ENOMEM)
			break;
	}
	lexer_fini(&lexer);
	free(unix_text);
	return err == -ENOMEM ? err : 0;
}

static void parser_init(struct parser *parser, struct policy *policy,
			struct policy_diagnostics *diagnostics, int root_fd)
{
	memset(parser, 0, sizeof(*parser));
	parser->policy = policy;
	parser->diagnostics = diagnostics;
	parser->first_diagnostic = diagnostics->count;
	parser->root_fd = root_fd;
	string_map_init(&parser->ids);
	string_map_init(&parser->id_suffixes);
}

/* Returns a load call's result: -ENOMEM, -EINVAL when it added
 * diagnostics, or 0. */
static int parser_fini(struct parser *parser, int err)
{
	string_map_fini(&parser->ids);
	string_map_fini(&parser->id_suffixes);
	free_syscall_names(parser);

	if (err == -ENOMEM)
		return err;
	if (parser->diagnostics->count > parser->first_diagnostic)
		return -EINVAL;
	return 0;
}

int policy_load_file(struct policy *policy, const char *path,
		     struct policy_diagnostics *diagnostics)
{
	struct parser parser;
	int err;

	parser_init(&parser, policy, diagnostics, -1);
	err = load_path(&parser, NULL, path, path);
	return parser_fini(&parser, err);
}

int policy_load_text_in_root(struct policy *policy, int root_fd,
			     const char *name, const char *text, size_t length,
			     struct policy_diagnostics *diagnostics)
{
	struct parser parser;
	int err;

	parser_init(&parser, policy, diagnostics, root_fd);
	if (length > POLICY_FILE_MAX)
		err = report_open_error(&parser, NULL, name, -EFBIG, NULL);
	else
		err = parse_source(&parser, name, NULL, text, length);
	return parser_fini(&parser, err);
}

int policy_load_text(struct policy *policy, const char *name, const char *text,
		     size_t length, struct policy_diagnostics *diagnostics)
{
	return policy_load_text_in_root(policy, -1, name, text, length,
					diagnostics);
}

int policy_load_default(struct policy *policy,
			struct policy_diagnostics *diagnostics)
{
	return policy_load_text(policy, "<default>", policy_default_text,
				strlen(policy_default_text), diagnostics);
}
