//! The Discord layer: the serenity connection, messages and interactions in, replies out.
