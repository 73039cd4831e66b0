#!/bin/sh
# SPDX-License-Identifier: MIT
# The metric marker grammar, one case a line; run once, exits 0. In DB 2:
#   {{name}} or {{name:}}  INCR wrapp:<stream>:name
#   {{name:42}}            SET  wrapp:<stream>:name 42 (the digits as written)
# Markers are removed from the line; a line that held only markers writes no
# entry. Anything else in braces is plain text (the Go regex
# \{\{(\w+):?(\d*)\}\}: a name of letters, digits and _, digits only as value).
echo "markers: {{starts}}counted once: wrapp:<stream>:starts is 1"
echo "{{jobs}}"
echo "{{jobs:}}markers: jobs counted again, now 2 (the line above wrote no entry)"
echo "markers: queue depth set twice{{queue_depth:17}}{{queue_depth:042}}: the last wins, kept as 042"
echo "markers: not markers, kept as text: {{ spaced }} {{neg:-5}} {{ratio:1.5}} {{name:abc}}"
echo "markers: two markers in one line are both applied{{a}}{{b:7}}: a is 1, b is 7"
