"""Match stage: normalise text, read marks, check licences, and judge every listing against the register."""
