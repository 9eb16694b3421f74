# Tab completion for emu in bash: source this file (e.g. from ~/.bashrc):
#   . /path/to/emu/tools/emu-completion.bash
# It asks emu itself through System.CommandLine's suggest directive ('emu [suggest:N] "LINE"'
# prints the commands, options and values that fit at position N), so it always matches the
# build on PATH. Where emu offers nothing (a file name is expected), bash completes file names.
# More, including dotnet-suggest for zsh and PowerShell: docs/commands.md.
_emu_complete()
{
    local IFS=$'\n'
    # The line as emu reads it: the first word (emu, ./emu, a path) spelled 'emu'.
    local line="emu${COMP_LINE:${#COMP_WORDS[0]}}"
    local point=$((COMP_POINT - ${#COMP_WORDS[0]} + 3))
    COMPREPLY=($("${COMP_WORDS[0]}" "[suggest:${point}]" "${line}" 2>/dev/null))
}
complete -o default -F _emu_complete emu
