"""审批流: flow templates as data (templates), matters' runs through them (runs), 三重一大 decisions (major)."""
