"""The name of every discrete action of a scenario, read from its engine: what a human player
presses (envs' play, keyboard legend) and what scripted agents look up (forward, turn)."""

_MINIGRID = ("left", "right", "forward", "pickup", "drop", "toggle", "done")  # minigrid's Actions


def action_names(env, engine: str) -> list[str]:
    """One name per action index, in the engine's own words (VizDoom's buttons, ALE's action
    meanings, the rebuilt DMLab set, Ant's gaits, MiniGrid's Actions)."""
    count = env.action_space.n
    if engine == "vizdoom":
        names = [button.name for button in env.unwrapped._game.get_available_buttons()]
    elif engine in ("ale", "nes-py"):  # Atari's and Mario's joypad combinations
        names = list(env.unwrapped.get_action_meanings())
    elif engine == "mujoco":
        from episodic_curiosity.envs import ant  # built already: its import costs nothing now
        names = [gait[0] for gait in ant.GAITS]
    elif engine == "minigrid":
        names = list(_MINIGRID)
    else:  # the rebuilt DMLab mazes and DeepMind Lab itself share the original's action set
        from episodic_curiosity.envs import maze
        names = [action[0] for action in maze.ACTIONS]
    return names[:count]


# Synonyms across engines for the moves a navigating agent (or a player's arrow keys) needs.
MOVES = {
    "forward": ("forward", "MOVE_FORWARD", "UP"),
    "backward": ("backward", "MOVE_BACKWARD", "DOWN"),
    "left": ("look_left", "turn_left", "left", "TURN_LEFT", "LEFT"),
    "right": ("look_right", "turn_right", "right", "TURN_RIGHT", "RIGHT"),
}


def move_index(names: list[str]) -> dict[str, int]:
    """Move ("forward", "backward", "left", "right") -> action index, for the moves present."""
    found = {}
    for move, synonyms in MOVES.items():
        index = next((names.index(s) for s in synonyms if s in names), None)
        if index is not None:
            found[move] = index
    return found
