/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Splitting policy text into statements and tokens. A statement ends at a
 * newline unless a backslash is the line's last byte outside a string and
 * a comment. Every step moves the cursor forward, so the work is linear in
 * the size of the text.
 */
#include "policy/lexer.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void lexer_init(struct lexer *lexer, const char *text, size_t length)
{
	memset(lexer, 0, sizeof(*lexer));
	lexer->cursor = text;
	lexer->end = text + length;
	lexer->line_start = text;
	lexer->line = 1;
}

void lexer_fini(struct lexer *lexer)
{
	free(lexer->tokens);
	free(lexer->offsets);
	free(lexer->texts);
}

static unsigned int column_of(const struct lexer *lexer, const char *at)
{
	return (unsigned int)(at - lexer->line_start) + 1;
}

static void set_error(struct lexer *lexer, enum lex_error_kind kind,
		      const char *at, unsigned int line, unsigned int column)
{
	if (lexer->error.kind != LEX_OK)
		return;
	lexer->error.kind = kind;
	lexer->error.line = line;
	lexer->error.column = column;
	lexer->error.byte = at < lexer->end ? (unsigned char)*at : 0;
}

static void set_error_here(struct lexer *lexer, enum lex_error_kind kind,
			   const char *at)
{
	set_error(lexer, kind, at, lexer->line, column_of(lexer, at));
}

static int push_byte(struct lexer *lexer, char byte)
{
	if (lexer->texts_length == lexer->texts_capacity) {
		size_t grown =
			lexer->texts_capacity ? lexer->texts_capacity * 2 : 256;
		char *texts = realloc(lexer->texts, grown);

		if (!texts)
			return -ENOMEM;
		lexer->texts = texts;
		lexer->texts_capacity = grown;
	}
	lexer->texts[lexer->texts_length++] = byte;
	return 0;
}

static int start_token(struct lexer *lexer, bool quoted)
{
	struct token *token;

	if (lexer->count == lexer->token_capacity) {
		size_t grown =
			lexer->token_capacity ? lexer->token_capacity * 2 : 16;
		struct token *tokens =
			reallocarray(lexer->tokens, grown, sizeof(*tokens));
		size_t *offsets;

		if (!tokens)
			return -ENOMEM;
		lexer->tokens = tokens;
		offsets = reallocarray(lexer->offsets, grown, sizeof(*offsets));
		if (!offsets)
			return -ENOMEM;
		lexer->offsets = offsets;
		lexer->token_capacity = grown;
	}

	token = &lexer->tokens[lexer->count];
	token->text = NULL;
	token->line = lexer->line;
	token->column = column_of(lexer, lexer->cursor);
	token->quoted = quoted;
	lexer->offsets[lexer->count] = lexer->texts_length;
	lexer->count++;
	return 0;
}

static int finish_token(struct lexer *lexer)
{
	size_t offset = lexer->offsets[lexer->count - 1];

	lexer->tokens[lexer->count - 1].length = lexer->texts_length - offset;
	return push_byte(lexer, '\0');
}

static bool is_blank(char byte)
{
	return byte == ' ' || byte == '\t';
}

/* Whether the cursor is at a backslash that is the last byte of a line. */
static bool at_continuation(const struct lexer *lexer)
{
	const char *at = lexer->cursor;

	return *at == '\\' && (at + 1 == lexer->end || at[1] == '\n');
}

static void skip_continuation(struct lexer *lexer)
{
	if (lexer->cursor + 1 == lexer->end) {
		set_error_here(lexer, LEX_CONTINUED_AT_END, lexer->cursor);
		lexer->cursor++;
		return;
	}
	lexer->cursor += 2;
	lexer->line++;
	lexer->line_start = lexer->cursor;
}

/* A comment runs to the end of its line; a backslash there is text. */
static void skip_comment(struct lexer *lexer)
{
	while (lexer->cursor < lexer->end && *lexer->cursor != '\n') {
		if (*lexer->cursor == '\0')
			set_error_here(lexer, LEX_NUL, lexer->cursor);
		lexer->cursor++;
	}
}

static int read_word(struct lexer *lexer)
{
	int err = start_token(lexer, false);

	while (err == 0 && lexer->cursor < lexer->end) {
		char byte = *lexer->cursor;

		if (is_blank(byte) || byte == '\n')
			break;
		if (at_continuation(lexer)) {
			skip_continuation(lexer);
			continue;
		}
		if (byte == '\0')
			set_error_here(lexer, LEX_NUL, lexer->cursor);
		else
			err = push_byte(lexer, byte);
		lexer->cursor++;
	}
	return err ? err : finish_token(lexer);
}

/*
 * Reads the byte after a backslash in a string. Only \" and \\ are
 * escapes. A backslash at the end of the line leaves the string
 * unterminated, because strings never span lines.
 */
static int read_escape(struct lexer *lexer, const char *open)
{
	const char *next = lexer->cursor + 1;

	if (next == lexer->end || *next == '\n') {
		set_error(lexer, LEX_UNTERMINATED, open, lexer->line,
			  column_of(lexer, open));
		lexer->cursor++;
		return 0;
	}
	if (*next != '"' && *next != '\\') {
		set_error(lexer, LEX_BAD_ESCAPE, next, lexer->line,
			  column_of(lexer, lexer->cursor));
		lexer->cursor++;
		return 0;
	}
	lexer->cursor += 2;
	return push_byte(lexer, *next);
}

static void check_after_quote(struct lexer *lexer)
{
	if (lexer->cursor == lexer->end || is_blank(*lexer->cursor) ||
	    *lexer->cursor == '\n' || at_continuation(lexer))
		return;
	set_error_here(lexer, LEX_AFTER_QUOTE, lexer->cursor);
}

static int read_string(struct lexer *lexer)
{
	const char *open = lexer->cursor;
	int err = start_token(lexer, true);

	lexer->cursor++;
	while (err == 0) {
		char byte;

		if (lexer->cursor == lexer->end || *lexer->cursor == '\n') {
			set_error(lexer, LEX_UNTERMINATED, open, lexer->line,
				  column_of(lexer, open));
			return finish_token(lexer);
		}
		byte = *lexer->cursor;
		if (byte == '"') {
			lexer->cursor++;
			check_after_quote(lexer);
			break;
		}
		if (byte == '\\') {
			err = read_escape(lexer, open);
			continue;
		}
		if (byte == '\0')
			set_error_here(lexer, LEX_NUL, lexer->cursor);
		else
			err = push_byte(lexer, byte);
		lexer->cursor++;
	}
	return err ? err : finish_token(lexer);
}

static void point_tokens_at_texts(struct lexer *lexer)
{
	for (size_t i = 0; i < lexer->count; i++)
		lexer->tokens[i].text = lexer->texts + lexer->offsets[i];
}

static bool has_statement(const struct lexer *lexer)
{
	return lexer->count > 0 || lexer->error.kind != LEX_OK;
}

int lexer_next(struct lexer *lexer)
{
	lexer->count = 0;
	lexer->texts_length = 0;
	memset(&lexer->error, 0, sizeof(lexer->error));

	while (lexer->cursor < lexer->end) {
		char byte = *lexer->cursor;
		int err;

		if (is_blank(byte)) {
			lexer->cursor++;
			continue;
		}
		if (byte == '\n') {
			lexer->cursor++;
			lexer->line++;
			lexer->line_start = lexer->cursor;
			if (has_statement(lexer))
				break;
			continue;
		}
		if (at_continuation(lexer)) {
			skip_continuation(lexer);
			continue;
		}
		if (byte == '#') {
			skip_comment(lexer);
			continue;
		}

		err = byte == '"' ? read_string(lexer) : read_word(lexer);
		if (err)
			return err;
	}

	point_tokens_at_texts(lexer);
	return has_statement(lexer) ? 1 : 0;
}
