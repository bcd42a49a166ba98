/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The lexer of the policy language: splits text into statements, each a
 * list of tokens with their line and column, joining continued lines and
 * dropping comments.
 */
#ifndef NATIVEMON_POLICY_LEXER_H
#define NATIVEMON_POLICY_LEXER_H

#include "policy/internal.h"

enum lex_error_kind {
	LEX_OK,
	LEX_NUL,	     /* a NUL byte anywhere */
	LEX_UNTERMINATED,    /* a string without its closing quote */
	LEX_BAD_ESCAPE,	     /* a backslash in a string before another byte */
	LEX_AFTER_QUOTE,     /* a byte right after a string's closing quote */
	LEX_CONTINUED_AT_END /* a backslash as the text's last byte */
};

/* The first problem in a statement; the lexer still finds its end. */
struct lex_error {
	enum lex_error_kind kind;
	unsigned int line, column;
	unsigned char byte; /* for LEX_BAD_ESCAPE and LEX_AFTER_QUOTE */
};

struct lexer {
	const char *cursor, *end;
	const char *line_start;
	unsigned int line;
	struct token *tokens; /* of the statement last read */
	size_t count;
	struct lex_error error;

	/* Private to the lexer. */
	size_t token_capacity;
	size_t *offsets; /* of each token's text in texts */
	char *texts;
	size_t texts_length, texts_capacity;
};

void lexer_init(struct lexer *lexer, const char *text, size_t length);
void lexer_fini(struct lexer *lexer);

/*
 * Reads the next statement into tokens and error. Returns 1 when a
 * statement was read (it has tokens, an error or both), 0 at the end of
 * the text, or -ENOMEM. The tokens stay valid until the next call.
 */
int lexer_next(struct lexer *lexer);

#endif
