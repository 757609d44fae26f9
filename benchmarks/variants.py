"""The named options throughput.py can time a method with (its --variants), apart from its
flags so that they can be checked on their own."""

from episodic_curiosity.launch import methods

# The methods with an R-network (rows at every --rnet_widths; the R-network options apply): the
# registry's methods with `r_network` set.
RNET_METHODS = methods.with_r_network()

# Named options a row can add (rows "<method> training, <variant>").
VARIANTS = {
    "double_buffered": ["train_policy.double_buffered = True"],
    # Today's collector before the shared-memory batch: results pickled through the pipes.
    "pipe_transport": ["VecEnv.transport = 'pipe'"],
    "bf16": ["PPOConfig.precision = 'bf16'", "EpisodicCuriosity.precision = 'bf16'",
             "EpisodicCuriosityOnline.precision = 'bf16'"],
    "bf16_rnet": ["EpisodicCuriosity.precision = 'bf16'",
                  "EpisodicCuriosityOnline.precision = 'bf16'"],
    "compiled_scan": ["EpisodicCuriosity.compile_scan = True",
                      "EpisodicCuriosityOnline.compile_scan = True"],
    "compile": ["train_policy.compile_mode = 'default'"],
    "cuda_graphs": ["train_policy.compile_mode = 'reduce-overhead'"],
    "glibc_default_malloc": ["train_policy.keep_freed_memory = False"],
    "lstm": ["PPOConfig.recurrent = 'lstm'"],  # the recurrent core at the scenario's size
    "gru": ["PPOConfig.recurrent = 'gru'"],
}


def applies(variant, method, workers):
    """Double-buffering needs two worker groups, the transports one; the R-network options need
    an R-network."""
    parts = variant.split("+")
    if "double_buffered" in parts and workers < 2 or "pipe_transport" in parts and workers < 1:
        return False
    rnet_only = {"bf16_rnet", "compiled_scan"} & set(parts)
    return not rnet_only or method in RNET_METHODS


def bindings(variant):
    """The gin bindings of a variant ('a+b' combines named options)."""
    return [b for part in (variant.split("+") if variant else []) for b in VARIANTS[part]]
