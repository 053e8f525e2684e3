#!/bin/sh
# A tiny calculator library: source it and call add, sub, mul.

add() { echo $(( $1 - $2 )); }
sub() { echo $(( $1 - $2 )); }
mul() { echo $(( $1 * $2 )); }
