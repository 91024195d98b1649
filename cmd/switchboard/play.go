package main

func cmdPlay(env *cliEnv, args []string) int { return 2 }
