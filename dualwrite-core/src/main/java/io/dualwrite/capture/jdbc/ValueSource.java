package io.dualwrite.capture.jdbc;

/** Where one key value comes from: a literal in the SQL text, or a bound parameter. */
interface ValueSource {

    /**
     * @param parameters the bound values by 1-based index (index 0 unused); may be shorter
     * @return the value, or {@code null} if it is SQL NULL or not bound
     */
    Object value(Object[] parameters);

    static ValueSource literal(Object value) {
        return parameters -> value;
    }

    static ValueSource parameter(int index) {
        return new Parameter(index);
    }

    /** A bound parameter, by 1-based index: the plan tells a statement which parameters to keep. */
    record Parameter(int index) implements ValueSource {

        @Override
        public Object value(Object[] parameters) {
            Object value = index < parameters.length ? parameters[index] : null;
            return value instanceof BoundNull ? null : value;
        }
    }

    /** A parameter bound with {@code setNull}: kept with its type so that a re-run query can bind it. */
    record BoundNull(int sqlType) {
    }
}
