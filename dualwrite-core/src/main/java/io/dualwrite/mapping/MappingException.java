package io.dualwrite.mapping;

import java.util.List;

/**
 * The table mappings do not fit the stores: thrown at start-up with every problem found, one per
 * line, each naming the table, the column and the property that fixes it.
 */
public class MappingException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final transient List<String> problems;

    /**
     * Creates the exception.
     *
     * @param problems the problems, at least one
     */
    public MappingException(List<String> problems) {
        super(message(problems));
        this.problems = List.copyOf(problems);
    }

    private static String message(List<String> problems) {
        StringBuilder message = new StringBuilder("dualwrite table mappings have ").append(problems.size())
                .append(problems.size() == 1 ? " problem:" : " problems:");
        problems.forEach(p -> message.append("\n  - ").append(p));
        return message.toString();
    }

    /** @return the problems, one sentence each */
    public List<String> problems() {
        return problems;
    }
}
